package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// cpuSeconds is the CPU time (user + system) used so far by every process whose command
// line contains marker: Keycloak's JVM is found by its --http-port argument. It reads
// /proc only.
func cpuSeconds(marker string) (float64, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	var total float64
	found := false
	for _, dir := range dirs {
		cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(marker)) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		secs, err := statCPU(string(stat))
		if err != nil {
			return 0, err
		}
		total += secs
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no process with %q in its command line", marker)
	}
	return total, nil
}

// statCPU reads utime + stime from a /proc/<pid>/stat line. The command name may hold
// spaces and parentheses, so fields are counted from the last ')'.
func statCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// After the name: state(3) ... utime(14) stime(15), so indexes 11 and 12 here.
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat %q", stat)
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat times in %q", stat)
	}
	return (u + s) / clockTicks, nil
}
