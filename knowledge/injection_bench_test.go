package knowledge

import "testing"

func BenchmarkIsInjection(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		IsInjection(benchQuestions[i%len(benchQuestions)])
	}
}
