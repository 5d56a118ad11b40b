package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/colecommune/trolyso/cmd/trolyso/internal/bench"
	"github.com/colecommune/trolyso/knowledge"
)

// benchFlags are the options of trolyso bench.
type benchFlags struct {
	sizes     string
	questions int
	residents int
	rates     string
	runs      int
	duration  time.Duration
	tgRate    float64
	e2e       bool
	seed      uint64
	keep      bool
	memLoad   time.Duration
}

// runBench measures retrieval, start-up, memory and end-to-end throughput
// and prints a table. Servers run as child processes of this binary on
// 127.0.0.1 with a fresh SQLite file each.
func runBench(ctx context.Context, a *app, args []string) error {
	var f benchFlags
	fset := a.newFlags("bench")
	fset.StringVar(&f.sizes, "sizes", "shipped,500,5000", "knowledge-base sizes: shipped and/or entry counts of synthetic bases")
	fset.IntVar(&f.questions, "questions", 20000, "retrieval questions per base (also bounded to 15 s)")
	fset.IntVar(&f.residents, "residents", 500, "simulated residents for the end-to-end runs")
	fset.StringVar(&f.rates, "rate", "1500,3000", "messages per second the residents send together (web chat, open loop); a comma-separated list runs each")
	fset.IntVar(&f.runs, "runs", 3, "runs of each open-loop rate, each on a fresh server and database (the table shows every run and the spread)")
	fset.DurationVar(&f.duration, "duration", 10*time.Second, "length of each end-to-end run")
	fset.Float64Var(&f.tgRate, "telegram-rate", 20, "messages per second through the Telegram webhook (the adapter keeps under Telegram's 30/s sending limit)")
	fset.BoolVar(&f.e2e, "e2e", true, "run the end-to-end load tests")
	fset.Uint64Var(&f.seed, "seed", 1, "seed of the synthetic bases and questions")
	fset.BoolVar(&f.keep, "keep", false, "keep the temporary folder (synthetic bases, databases)")
	fset.DurationVar(&f.memLoad, "mem-load", 3*time.Second, "web chat load while the resident memory of each base size is sampled")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	var rates []float64
	for _, r := range strings.Split(f.rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || v <= 0 {
			return fmt.Errorf("%w: -rate: %q is not a positive number of messages per second", errUsage, r)
		}
		rates = append(rates, v)
	}
	if f.runs < 1 {
		return fmt.Errorf("%w: -runs must be at least 1", errUsage)
	}
	now := a.now()
	shipped, err := bench.Shipped(now)
	if err != nil {
		return err
	}
	// Sizes are checked before anything runs: a typo in the last one must
	// not cost the minutes the first ones take.
	sizes, err := benchSizes(f.sizes, len(shipped.Entries))
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find own binary: %w", err)
	}
	tmp, err := os.MkdirTemp("", "trolyso-bench-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if f.keep {
		fmt.Fprintf(a.stderr, "bench: files in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	out := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(a.stdout, "trolyso bench — %s, GOMAXPROCS=%d, %s\n\n", time.Now().Format(time.DateTime), runtimeProcs(), cpuModel())
	fmt.Fprintln(out, "base\tentries\tretrieval p50\tp99\tmax\tallocs/q\tKB/q\tload+train\tserve ready\tRSS idle\tRSS under load\theap in use\t")
	for _, n := range sizes {
		size := "shipped"
		var fsys fs.FS = knowledge.EmbeddedBase()
		kbDir := ""
		if n > 0 {
			size = strconv.Itoa(n)
			m, err := bench.Synthesize(shipped, n, f.seed)
			if err != nil {
				return err
			}
			kbDir = filepath.Join(tmp, "kb-"+size)
			if err := bench.WriteDir(m, kbDir); err != nil {
				return err
			}
			if fsys, err = knowledge.DirBase(kbDir); err != nil {
				return err
			}
		}
		base, ix, st, err := bench.MeasureStartup(fsys, now)
		if err != nil {
			return err
		}
		qs := bench.Queries(base, 2000, f.seed+1)
		ret := bench.MeasureRetrieval(ix, qs, f.questions, 15*time.Second)
		base, ix = nil, nil

		ready, idle, peak := "–", "–", "–"
		srv, err := startBenchServer(ctx, exe, tmp, "mem-"+size, kbDir, nil)
		if err != nil {
			return err
		}
		ready = ms(srv.Ready)
		if v, err := srv.RSS(); err == nil {
			idle = mib(v)
		}
		stop := make(chan struct{})
		peakc := make(chan uint64, 1)
		go func() { peakc <- bench.PeakRSS(srv.Cmd.Process.Pid, 50*time.Millisecond, stop) }()
		bench.RunWeb(ctx, srv.URL, bench.LoadOptions{Residents: 50, Duration: f.memLoad, MaxMessages: 3000, Questions: qs, Seed: f.seed})
		close(stop)
		peak = mib(<-peakc)
		if err := srv.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
			return fmt.Errorf("stop server: %w", err)
		}
		fmt.Fprintf(out, "%s\t%d\t%s\t%s\t%s\t%.0f\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", size, st.Entries,
			us(ret.P50), us(ret.P99), us(ret.Max), ret.AllocsPerQ, ret.BytesPerQ/1024,
			ms(st.Load+st.Index), ready, idle, peak, mib(st.HeapInUse))
	}
	out.Flush()
	fmt.Fprintln(a.stdout, "\nretrieval: knowledge.Index.Decide on one goroutine over a fixed question mix (paraphrases as written, without diacritics, recombined, out of scope);")
	fmt.Fprintln(a.stdout, "load+train: in-process parse+validate+render, then train and calibrate the answer engine (the shipped base's model is in the binary); serve ready: exec of `trolyso serve` to a healthy /healthz (a synthetic base trains there too);")
	fmt.Fprintln(a.stdout, "RSS: VmRSS of that serve process (/proc/PID/status), idle and peak under 3 s of web chat load; heap in use: this process after load+index+GC.")
	if !f.e2e {
		return nil
	}

	qs := bench.Queries(shipped, 2000, f.seed+1)
	fmt.Fprintln(a.stdout)
	out = tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(out, "end to end (shipped base)\trun\tresidents\toffered/s\tanswered\tratings\tanswered/s\tp50\tp99\tp99.9\tmax\tnon-200\terrors\tlost\tload\tpeak RSS\t")
	row := func(name, run, offered string, r bench.LoadResult, lost string, load string, peak uint64) {
		non200 := int64(0)
		for code, n := range r.Status {
			if code != 200 {
				non200 += n
			}
		}
		fmt.Fprintf(out, "%s\t%s\t%d\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", name, run, f.residents, offered,
			r.Answered, r.Ratings, r.Throughput, ms(r.P50), ms(r.P99), ms(r.P999), ms(r.Max), non200, r.Errors, lost, load, mib(peak))
	}
	// webRun drives one fresh server; after it stops, every exchange and
	// rating acknowledged during the run is looked up in its database.
	webRun := func(name string, rate float64) (bench.LoadResult, int, error) {
		srv, err := startBenchServer(ctx, exe, tmp, name, "", nil)
		if err != nil {
			return bench.LoadResult{}, 0, err
		}
		stop := make(chan struct{})
		peakc := make(chan uint64, 1)
		go func() { peakc <- bench.PeakRSS(srv.Cmd.Process.Pid, 100*time.Millisecond, stop) }()
		load := loadAvg()
		r := bench.RunWeb(ctx, srv.URL, bench.LoadOptions{Residents: f.residents, Rate: rate, Duration: f.duration, Questions: qs, Seed: f.seed})
		close(stop)
		if err := srv.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
			return r, 0, fmt.Errorf("stop server: %w", err)
		}
		lost, err := bench.Lost(ctx, filepath.Join(tmp, name+".db"), r.Acked, r.RatedIDs)
		if err != nil {
			return r, 0, err
		}
		kind, offered := "web chat API (open loop)", fmt.Sprintf("%.0f", rate)
		if rate == 0 {
			kind, offered = "web chat API (closed loop)", "as fast as replies"
		}
		run := strings.TrimPrefix(name[strings.LastIndexByte(name, '-')+1:], "r")
		row(kind, run, offered, r, strconv.Itoa(lost), load, <-peakc)
		return r, lost, nil
	}
	type spread struct {
		rate float64
		res  []bench.LoadResult
		lost int
	}
	var spreads []spread
	for _, rate := range rates {
		sp := spread{rate: rate}
		for run := 1; run <= f.runs; run++ {
			r, lost, err := webRun(fmt.Sprintf("web-%.0f-r%d", rate, run), rate)
			if err != nil {
				return err
			}
			sp.res = append(sp.res, r)
			sp.lost += lost
		}
		spreads = append(spreads, sp)
	}
	if _, _, err := webRun("web-closed-r1", 0); err != nil {
		return err
	}
	out.Flush()

	fmt.Fprintf(a.stdout, "\nrun-to-run spread (open loop, %d runs each: median [min–max])\n", f.runs)
	out = tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(out, "offered/s\tanswered/s\tp50\tp99\tp99.9\tmax\tlost\t")
	for _, sp := range spreads {
		pick := func(get func(bench.LoadResult) time.Duration) string {
			var ds []time.Duration
			for _, r := range sp.res {
				ds = append(ds, get(r))
			}
			slices.Sort(ds)
			return fmt.Sprintf("%s [%s–%s]", ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]))
		}
		var tp []float64
		for _, r := range sp.res {
			tp = append(tp, r.Throughput)
		}
		slices.Sort(tp)
		fmt.Fprintf(out, "%.0f\t%.0f [%.0f–%.0f]\t%s\t%s\t%s\t%s\t%d\t\n", sp.rate, tp[len(tp)/2], tp[0], tp[len(tp)-1],
			pick(func(r bench.LoadResult) time.Duration { return r.P50 }), pick(func(r bench.LoadResult) time.Duration { return r.P99 }),
			pick(func(r bench.LoadResult) time.Duration { return r.P999 }), pick(func(r bench.LoadResult) time.Duration { return r.Max }), sp.lost)
	}
	out.Flush()
	fmt.Fprintln(a.stdout)
	out = tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(out, "end to end (shipped base)\trun\tresidents\toffered/s\tanswered\tratings\tanswered/s\tp50\tp99\tp99.9\tmax\tnon-200\terrors\tlost\tload\tpeak RSS\t")

	api, err := bench.NewFakeBotAPI(benchToken)
	if err != nil {
		return err
	}
	defer api.Close()
	secret := "bench-secret-0123456789"
	srv, err := startBenchServer(ctx, exe, tmp, "telegram", "", []string{
		"TELEGRAM_BOT_TOKEN=" + benchToken,
		"TELEGRAM_API_URL=" + api.URL(),
		"TELEGRAM_WEBHOOK_URL=https://bot.example.vn/telegram/webhook",
		"TELEGRAM_WEBHOOK_SECRET=" + secret,
	})
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	peakc := make(chan uint64, 1)
	go func() { peakc <- bench.PeakRSS(srv.Cmd.Process.Pid, 100*time.Millisecond, stop) }()
	load := loadAvg()
	r := bench.RunTelegram(ctx, api, bench.TelegramOptions{
		LoadOptions: bench.LoadOptions{Residents: f.residents, Rate: f.tgRate, Duration: f.duration, Questions: qs, Seed: f.seed},
		WebhookURL:  srv.URL + "/telegram/webhook", Secret: secret,
	})
	close(stop)
	row("Telegram webhook → fake Bot API", "1", fmt.Sprintf("%.0f", f.tgRate), r, "–", load, <-peakc)
	if err := srv.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	out.Flush()
	fmt.Fprintln(a.stdout, "\nweb: POST /api/message with a session cookie per resident, real SQLite file (WAL), 30 % of answers rated 👍/👎 with the next message;")
	fmt.Fprintln(a.stdout, "open loop: latency from the planned send time; closed loop: each resident sends again as soon as the reply arrives (latency includes queueing).")
	fmt.Fprintln(a.stdout, "lost: acknowledged exchanges and ratings missing from the database once the server stopped; load: 1-minute load average of the machine when the run started")
	fmt.Fprintln(a.stdout, "(the load generator runs on the same machine: at 3,000/s it takes about a core itself).")
	fmt.Fprintln(a.stdout, "Telegram: update POSTed to the webhook (one of 100 users per resident), latency until the bot's sendMessage for that chat reaches the fake Bot API;")
	fmt.Fprintln(a.stdout, "30 % of answers are rated 👍 by a callback tap right after they arrive (the ratings column). The adapter paces replies under Telegram's limits (at most 30 in any second per bot).")
	return nil
}

// benchSizes parses -sizes: "shipped" (0) or entry counts of synthetic
// bases, each at least min (the shipped base's size).
func benchSizes(list string, min int) ([]int, error) {
	var sizes []int
	for _, size := range strings.Split(list, ",") {
		size = strings.TrimSpace(size)
		if size == "shipped" {
			sizes = append(sizes, 0)
			continue
		}
		n, err := strconv.Atoi(size)
		if err != nil || n < min {
			return nil, fmt.Errorf("%w: -sizes: %q is neither shipped nor a count ≥ %d", errUsage, size, min)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

const benchToken = "123456789:AAbenchTOKENbenchTOKENbenchTOKEN_x"

// startBenchServer starts `trolyso serve` from this binary with its own
// database under tmp.
func startBenchServer(ctx context.Context, exe, tmp, name, kbDir string, extra []string) (*bench.Server, error) {
	env := []string{
		"TROLYSO_ADDR=127.0.0.1:0",
		"TROLYSO_DB=" + filepath.Join(tmp, name+".db"),
		"TROLYSO_KB=" + kbDir,
		"TROLYSO_WEB_RATE=100000000",
	}
	return bench.StartServer(ctx, exe, []string{"serve"}, append(env, extra...), 5*time.Minute)
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// loadAvg is the machine's 1-minute load average (/proc/loadavg), or "–".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "–"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "–"
	}
	return f[0]
}

// cpuModel names the processor, for the table's heading.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
func mib(b uint64) string       { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
