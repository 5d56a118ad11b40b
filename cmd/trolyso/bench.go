package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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
	rate      float64
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
	fset.Float64Var(&f.rate, "rate", 1500, "messages per second the residents send together (web chat)")
	fset.DurationVar(&f.duration, "duration", 10*time.Second, "length of each end-to-end run")
	fset.Float64Var(&f.tgRate, "telegram-rate", 20, "messages per second through the Telegram webhook (the adapter keeps under Telegram's 30/s sending limit)")
	fset.BoolVar(&f.e2e, "e2e", true, "run the end-to-end load tests")
	fset.Uint64Var(&f.seed, "seed", 1, "seed of the synthetic bases and questions")
	fset.BoolVar(&f.keep, "keep", false, "keep the temporary folder (synthetic bases, databases)")
	fset.DurationVar(&f.memLoad, "mem-load", 3*time.Second, "web chat load while the resident memory of each base size is sampled")
	if err := parseFlags(fset, args); err != nil {
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
	now := a.now()
	shipped, err := bench.Shipped(now)
	if err != nil {
		return err
	}
	out := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(a.stdout, "trolyso bench — %s, GOMAXPROCS=%d, %s\n\n", time.Now().Format(time.DateTime), runtimeProcs(), cpuModel())
	fmt.Fprintln(out, "base\tentries\tretrieval p50\tp99\tmax\tallocs/q\tKB/q\tload+train\tserve ready\tRSS idle\tRSS under load\theap in use\t")
	for _, size := range strings.Split(f.sizes, ",") {
		size = strings.TrimSpace(size)
		var fsys fs.FS = knowledge.EmbeddedBase()
		kbDir := ""
		if size != "shipped" {
			n, err := strconv.Atoi(size)
			if err != nil || n < len(shipped.Entries) {
				return fmt.Errorf("%w: -sizes: %q is neither shipped nor a count ≥ %d", errUsage, size, len(shipped.Entries))
			}
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
	fmt.Fprintln(out, "end to end (shipped base)\tresidents\toffered/s\tanswered\tratings\tanswered/s\tp50\tp99\tmax\tnon-200\terrors\tlocked\tpeak RSS\t")
	row := func(name string, offered string, r bench.LoadResult, peak uint64) {
		non200 := int64(0)
		for code, n := range r.Status {
			if code != 200 {
				non200 += n
			}
		}
		fmt.Fprintf(out, "%s\t%d\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t\n", name, f.residents, offered,
			r.Answered, r.Ratings, r.Throughput, ms(r.P50), ms(r.P99), ms(r.Max), non200, r.Errors, r.Locked, mib(peak))
	}
	webRun := func(name string, rate float64) error {
		srv, err := startBenchServer(ctx, exe, tmp, name, "", nil)
		if err != nil {
			return err
		}
		stop := make(chan struct{})
		peakc := make(chan uint64, 1)
		go func() { peakc <- bench.PeakRSS(srv.Cmd.Process.Pid, 100*time.Millisecond, stop) }()
		r := bench.RunWeb(ctx, srv.URL, bench.LoadOptions{Residents: f.residents, Rate: rate, Duration: f.duration, Questions: qs, Seed: f.seed})
		close(stop)
		offered := "as fast as replies"
		if rate > 0 {
			offered = fmt.Sprintf("%.0f", rate)
		}
		row("web chat API "+map[bool]string{true: "(open loop)", false: "(closed loop)"}[rate > 0], offered, r, <-peakc)
		if err := srv.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
			return fmt.Errorf("stop server: %w", err)
		}
		return nil
	}
	if err := webRun("web-open", f.rate); err != nil {
		return err
	}
	if err := webRun("web-closed", 0); err != nil {
		return err
	}

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
	r := bench.RunTelegram(ctx, api, bench.TelegramOptions{
		LoadOptions: bench.LoadOptions{Residents: f.residents, Rate: f.tgRate, Duration: f.duration, Questions: qs, Seed: f.seed},
		WebhookURL:  srv.URL + "/telegram/webhook", Secret: secret,
	})
	close(stop)
	row("Telegram webhook → fake Bot API", fmt.Sprintf("%.0f", f.tgRate), r, <-peakc)
	if err := srv.Signal(syscall.SIGTERM, 30*time.Second); err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	out.Flush()
	fmt.Fprintln(a.stdout, "\nweb: POST /api/message with a session cookie per resident, real SQLite file (WAL), 30 % of answers rated 👍/👎 with the next message;")
	fmt.Fprintln(a.stdout, "open loop: latency from the planned send time; closed loop: each resident sends again as soon as the reply arrives (latency includes queueing).")
	fmt.Fprintln(a.stdout, "Telegram: update POSTed to the webhook (one of 100 users per resident), latency until the bot's sendMessage for that chat reaches the fake Bot API;")
	fmt.Fprintln(a.stdout, "30 % of answers are rated 👍 by a callback tap right after they arrive (the ratings column). The adapter paces replies under Telegram's limits (at most 30 in any second per bot).")
	return nil
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
