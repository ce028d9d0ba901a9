package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// startProfiles starts the profiles the environment asks for (for
// docs/BENCHMARKS.md): FLOWLENS_CPUPROFILE=FILE writes a CPU profile of the
// whole command, FLOWLENS_MEMPROFILE=FILE its allocations (every
// allocation sampled at the default rate, written at exit),
// FLOWLENS_HEAPPEAK=FILE the live heap at its peak (the heap profile
// written again whenever the live heap after a GC grew by a tenth). The
// returned function stops them.
func startProfiles() func() {
	cpu, mem := os.Getenv("FLOWLENS_CPUPROFILE"), os.Getenv("FLOWLENS_MEMPROFILE")
	var stops []func()
	if peak := os.Getenv("FLOWLENS_HEAPPEAK"); peak != "" {
		stops = append(stops, heapPeak(peak))
	}
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

// heapPeak polls the live heap and writes the heap profile to path each
// time it exceeds the largest seen by a tenth; the returned function stops
// the polling.
func heapPeak(path string) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var max uint64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			live := sample[0].Value.Uint64()
			if live < max+max/10 {
				continue
			}
			max = live
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("heap").WriteTo(f, 0)
				_ = f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "flowlens: FLOWLENS_HEAPPEAK: %v\n", err)
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}
