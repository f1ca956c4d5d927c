package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recorder collects the latency of every request of a scenario, and its
// failures.
type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	errors   int
	firstErr error
	// statuses counts the failed requests that got an answer, by status;
	// the other failures got none.
	statuses map[int]int
}

// time runs one request and records how long it took and whether it failed.
func (r *recorder) time(request func() error) error {
	start := time.Now()
	err := request()
	r.add(time.Since(start), err)
	return err
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if err != nil {
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
		if se := (*statusError)(nil); errors.As(err, &se) {
			if r.statuses == nil {
				r.statuses = map[int]int{}
			}
			r.statuses[se.status]++
		}
	}
}

// result is one line of the report.
type result struct {
	name     string
	requests int
	errors   int
	firstErr error
	elapsed  time.Duration
	p50, p99 time.Duration
	// peakRSS is the server's VmHWM in KiB, 0 when unknown.
	peakRSS int
	note    string
}

func (r *recorder) result(name string, elapsed time.Duration) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	res := result{name: name, requests: len(lat), errors: r.errors, firstErr: r.firstErr, elapsed: elapsed,
		p50: percentile(lat, 0.50), p99: percentile(lat, 0.99)}
	if r.errors > 0 {
		var parts []string
		answered := 0
		for _, st := range slices.Sorted(maps.Keys(r.statuses)) {
			parts = append(parts, fmt.Sprintf("%d × %d", st, r.statuses[st]))
			answered += r.statuses[st]
		}
		if n := r.errors - answered; n > 0 {
			parts = append(parts, fmt.Sprintf("no answer × %d", n))
		}
		res.note = "failed: " + strings.Join(parts, ", ")
	}
	return res
}

// percentile returns the q quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r result) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func printResult(r result) {
	rss := "-"
	if r.peakRSS > 0 {
		rss = fmt.Sprintf("%.1f MiB", float64(r.peakRSS)/1024)
	}
	fmt.Printf("| %-26s | %7d | %9.1f | %9s | %9s | %6d | %10s | %s\n", r.name, r.requests, r.perSecond(),
		r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.errors, rss, r.note)
	if r.firstErr != nil {
		fmt.Fprintf(os.Stderr, "%s: first error: %v\n", r.name, r.firstErr)
	}
}

// resetPeak asks the kernel to reset the process's VmHWM to its current RSS
// (writing 5 to clear_refs), and reports whether it could.
func resetPeak(pid int) bool {
	if pid == 0 {
		return false
	}
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the process's VmHWM in KiB, or 0.
func peakRSS(pid int) int {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kib
		}
	}
	return 0
}
