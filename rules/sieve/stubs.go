package sieve

type mimeOpts struct{}
type mimeTree struct{}
type mimePart struct{}
type dupRecord struct{}
type includeState struct{}

func newIncludeState() *includeState                                    { return &includeState{} }
func (c *compiler) mimeOpts(n *node, p *parsedArgs, hdr bool) *mimeOpts { return nil }
func (t *headerTest) evalMIME(r *run) (bool, error)                     { return false, nil }
func (t *addressTest) evalMIME(r *run) (bool, error)                    { return false, nil }
func (t *existsTest) evalMIME(r *run, n []string) (bool, error)         { return false, nil }
func (r *run) commitDuplicates() error                                  { return nil }
