// Package linkcheck checks that the source URLs cited by knowledge-base
// entries still answer: a HEAD request, then a GET when HEAD fails or is
// refused (many government sites answer HEAD with 403, 404 or 405),
// following redirects, with a short deadline per URL and a bounded number
// of requests at a time. It is used by "trolyso kb check --links", which
// needs the network and is never run by the tests against the Internet.
package linkcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultParallel = 4
	// MaxRedirects is how many redirects are followed before a URL counts
	// as broken.
	MaxRedirects = 10
	userAgent    = "trolyso-linkcheck/1 (knowledge base source check)"
)

// Options tune a check.
type Options struct {
	// Timeout bounds each URL, HEAD and GET together (DefaultTimeout).
	Timeout time.Duration
	// Parallel is how many URLs are checked at a time (DefaultParallel).
	Parallel int
	// Transport sends the requests (http.DefaultTransport when nil).
	Transport http.RoundTripper
}

// Result is the outcome for one URL.
type Result struct {
	URL string
	// Status is the HTTP status of the answer that decided (after
	// redirects); 0 when no answer came.
	Status int
	// Method is the request that decided: HEAD, or GET after HEAD failed.
	Method string
	// Final is the URL answered after redirects ("" when not redirected).
	Final string
	// HeadStatus is HEAD's status when GET was tried after it (0 if HEAD
	// got no answer).
	HeadStatus int
	// Err is the transport error (timeout, DNS, TLS, too many redirects).
	Err error
}

// OK reports whether the URL answered with a 2xx status (after redirects).
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// Problem says in a few words why a URL is broken ("" when it is not).
func (r Result) Problem() string {
	if r.OK() {
		return ""
	}
	var msg string
	switch {
	case errors.Is(r.Err, context.DeadlineExceeded):
		msg = "no answer in time (timeout)"
	case r.Err != nil:
		msg = r.Err.Error()
	default:
		msg = fmt.Sprintf("HTTP %d %s", r.Status, http.StatusText(r.Status))
	}
	if r.Method == http.MethodGet && r.HeadStatus != 0 && r.HeadStatus != r.Status {
		msg += fmt.Sprintf(" (HEAD gave %d)", r.HeadStatus)
	}
	if r.Final != "" {
		msg += " after redirect to " + r.Final
	}
	return msg
}

// Check checks every URL and returns one result per URL, in the order
// given (duplicates are checked once each; callers pass distinct URLs).
func Check(ctx context.Context, urls []string, opts Options) []Result {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	client := &http.Client{
		Transport: opts.Transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= MaxRedirects {
				return fmt.Errorf("more than %d redirects", MaxRedirects)
			}
			return nil
		},
	}
	out := make([]Result, len(urls))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = Result{URL: u, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			out[i] = checkOne(ctx, client, u, opts.Timeout)
		}()
	}
	wg.Wait()
	return out
}

func checkOne(ctx context.Context, client *http.Client, u string, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := request(ctx, client, http.MethodHead, u)
	if r.OK() || ctx.Err() != nil {
		return r
	}
	head := r.Status
	r = request(ctx, client, http.MethodGet, u)
	r.HeadStatus = head
	return r
}

func request(ctx context.Context, client *http.Client, method, u string) Result {
	r := Result{URL: u, Method: method}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		r.Err = fmt.Errorf("bad URL: %w", err)
		return r
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf,*/*;q=0.8")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // drop the `Head "URL":` prefix
			}
		}
		r.Err = err
		return r
	}
	// The body is not needed: closing it unread drops the connection
	// rather than downloading the page.
	resp.Body.Close()
	r.Status = resp.StatusCode
	if final := resp.Request.URL.String(); final != u {
		r.Final = final
	}
	return r
}
