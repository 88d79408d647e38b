package bridge

import "github.com/gin-gonic/gin"

// IDTokenConfig configures Flow 3, the BONBON_ID_TOKEN exchange. Not built yet.
type IDTokenConfig struct{}

func (s *Server) idTokenRoutes(*gin.Engine) {}
