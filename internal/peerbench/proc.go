package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's CPU times: 100
// on every architecture Go runs Linux on.
const clockTick = 10 * time.Millisecond

// procStat is the part of /proc/PID/stat the benchmark reads.
type procStat struct {
	ppid int
	// cpu is user plus system time of the process (all its threads).
	cpu time.Duration
	// children is the user plus system time of its reaped children.
	children time.Duration
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name, in parentheses, may hold spaces: fields start
	// after its last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	num := func(field int) int64 { n, _ := strconv.ParseInt(f[field-3], 10, 64); return n }
	return procStat{
		ppid:     int(num(4)),
		cpu:      time.Duration(num(14)+num(15)) * clockTick,
		children: time.Duration(num(16)+num(17)) * clockTick,
	}, nil
}

// processCPU is the CPU time one process has used so far.
func processCPU(pid int) time.Duration {
	s, err := readStat(pid)
	if err != nil {
		return 0
	}
	return s.cpu
}

// clusterCPU is the CPU time a PostgreSQL cluster has used so far: its
// postmaster's, that of every live child (backends, background workers),
// and that of children that exited (counted in the postmaster's children
// times once reaped).
func clusterCPU(postmaster int) time.Duration {
	pm, err := readStat(postmaster)
	if err != nil {
		return 0
	}
	total := pm.cpu + pm.children
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == postmaster {
			continue
		}
		if s, err := readStat(pid); err == nil && s.ppid == postmaster {
			total += s.cpu
		}
	}
	return total
}

// findPostmaster returns the PID of the postgres server listening on port:
// the process named postgres whose arguments hold "-p PORT".
func findPostmaster(port int) (int, error) {
	want := strconv.Itoa(port)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(args[0]) != "postgres" {
			continue
		}
		for i := 1; i+1 < len(args); i++ {
			if args[i] == "-p" && args[i+1] == want {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no postgres process listens on port %d", port)
}
