//go:build !linux

package bulkbench

import "time"

func vmHWM(int) int64 { return 0 }

func selfCPU() time.Duration { return 0 }
