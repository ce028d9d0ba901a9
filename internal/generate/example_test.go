package generate_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/flowlens/flowlens/internal/generate"
)

// Generate a few records of the default format on standard output. The
// same configuration always prints the same lines.
func ExampleRun() {
	cfg := generate.DefaultConfig()
	cfg.Layout, cfg.Stdout = generate.LayoutStdout, os.Stdout
	cfg.Records, cfg.Hours, cfg.Scenarios = 6, 0.05, nil
	cfg.Start = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	sum, err := generate.Run(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Records, "records,", sum.Reject, "rejected")
	// Output:
	// 2 111122223333 eni-f1d59dc001b548a43 10.1.134.92 10.130.60.143 44267 5432 6 72 8112 1768478461 1768478518 ACCEPT OK
	// 2 111122223333 eni-f1d59dc001b548a43 10.130.60.143 10.1.134.92 5432 44267 6 6 3390 1768478461 1768478518 ACCEPT OK
	// 2 111122223333 eni-8e432d2e4ef6408ed 10.1.5.182 10.222.235.82 37117 443 6 1 591 1768478416 1768478430 ACCEPT OK
	// 2 111122223333 eni-8e432d2e4ef6408ed 10.222.235.82 10.1.5.182 443 37117 6 6 4255 1768478416 1768478430 ACCEPT OK
	// 2 111122223333 eni-03ac880e865cf1ef5 171.228.223.94 10.0.1.11 57375 445 6 2 90 1768478402 1768478433 REJECT OK
	// 2 111122223333 eni-a49691a76fa98775e 57.184.32.179 10.1.10.43 49984 445 6 2 82 1768478489 1768478489 REJECT OK
	// 6 records, 2 rejected
}
