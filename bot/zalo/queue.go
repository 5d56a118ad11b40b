package zalo

import "sync"

// queue runs jobs in order per key (one Zalo user's events are answered in
// the order they arrived) and at most limit at a time overall.
type queue struct {
	limit      chan struct{}
	maxPending int

	mu      sync.Mutex
	pending int
	keys    map[string][]func()
	closed  bool
	wg      sync.WaitGroup
}

func newQueue(concurrency, maxPending int) *queue {
	return &queue{limit: make(chan struct{}, concurrency), maxPending: maxPending, keys: map[string][]func(){}}
}

// push queues job after the key's earlier jobs. It reports false when the
// queue is closed or full.
func (q *queue) push(key string, job func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.pending >= q.maxPending {
		return false
	}
	q.pending++
	jobs, running := q.keys[key]
	q.keys[key] = append(jobs, job)
	if !running {
		q.wg.Add(1)
		go q.work(key)
	}
	return true
}

func (q *queue) work(key string) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		jobs := q.keys[key]
		if len(jobs) == 0 {
			delete(q.keys, key)
			q.mu.Unlock()
			return
		}
		job := jobs[0]
		jobs[0] = nil
		q.keys[key] = jobs[1:]
		q.mu.Unlock()

		q.limit <- struct{}{}
		job()
		<-q.limit

		q.mu.Lock()
		q.pending--
		q.mu.Unlock()
	}
}

// wait blocks until every queued job has run.
func (q *queue) wait() { q.wg.Wait() }

// close refuses new jobs and waits for the queued ones.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wg.Wait()
}
