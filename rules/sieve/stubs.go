package sieve

type dupRecord struct{}
type includeState struct{}

func newIncludeState() *includeState   { return &includeState{} }
func (r *run) commitDuplicates() error { return nil }
