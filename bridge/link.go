package bridge

import "github.com/gin-gonic/gin"

// LinkConfig configures Flow 2, the step-up link. Not built yet.
type LinkConfig struct{}

func (s *Server) linkRoutes(*gin.Engine) {}
