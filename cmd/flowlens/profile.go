package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the profiles the environment asks for (for
// docs/BENCHMARKS.md): FLOWLENS_CPUPROFILE=FILE writes a CPU profile of the
// whole command, FLOWLENS_MEMPROFILE=FILE its allocations (every
// allocation sampled at the default rate, written at exit). The returned
// function stops them.
func startProfiles() func() {
	cpu, mem := os.Getenv("FLOWLENS_CPUPROFILE"), os.Getenv("FLOWLENS_MEMPROFILE")
	var stops []func()
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "flowlens: FLOWLENS_CPUPROFILE: %v\n", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); _ = f.Close() })
		}
	}
	if mem != "" {
		stops = append(stops, func() {
			f, err := os.Create(mem)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				_ = f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "flowlens: FLOWLENS_MEMPROFILE: %v\n", err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
