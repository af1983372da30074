package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/drydock-scan/drydock/internal/walk"
)

// skipPatterns is the value of --skip-dirs or --skip-files: repeatable
// and comma-separated as Trivy's string-slice flags (so a brace pattern
// with a comma, "{a,b}", is split: write two patterns instead). Each
// pattern is checked as it is set, so that a bad one is a usage error
// from the flag, the environment or the config file alike.
type skipPatterns struct {
	flag    string
	pats    []string
	changed bool
}

var _ pflag.SliceValue = (*skipPatterns)(nil)

func (s *skipPatterns) String() string { return "[" + strings.Join(s.pats, ",") + "]" }
func (s *skipPatterns) Type() string   { return "strings" }

func (s *skipPatterns) Set(v string) error {
	vals := strings.Split(v, ",")
	if err := s.check(vals); err != nil {
		return err
	}
	if !s.changed {
		s.pats, s.changed = nil, true
	}
	s.pats = append(s.pats, vals...)
	return nil
}

func (s *skipPatterns) check(vals []string) error {
	var dirs, files []string
	if s.flag == "skip-files" {
		files = vals
	} else {
		dirs = vals
	}
	_, err := walk.NewSkipper(dirs, files)
	return err
}

func (s *skipPatterns) Append(v string) error { return s.Set(v) }

func (s *skipPatterns) Replace(vals []string) error {
	if err := s.check(vals); err != nil {
		return err
	}
	s.pats, s.changed = append([]string(nil), vals...), true
	return nil
}

func (s *skipPatterns) GetSlice() []string { return s.pats }
