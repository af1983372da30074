package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/report"
)

func newPolicyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with policy files",
	}
	var input string
	test := &cobra.Command{
		Use:   "test POLICY",
		Short: "Evaluate a policy (file or builtin:NAME) against a saved JSON report",
		Example: `  drydock image --format json -o report.json app:1.2
  drydock policy test .drydock/policy.yaml --input report.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if input == "" {
				return usageErr("--input REPORT.json is required")
			}
			f, err := os.Open(input)
			if err != nil {
				return usageErr("opening report: %v", err)
			}
			defer f.Close()
			pol, err := policy.LoadPolicy(cmd.Context(), args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			rep, err := report.ReadJSON(f)
			if err != nil {
				return usageErr("%s: %v", input, err)
			}
			// Annotations already in the report (earlier suppressions) are kept.
			v, err := (&policy.Engine{Policies: []*policy.Policy{pol}}).Evaluate(cmd.Context(), rep.Result())
			if err != nil {
				return usageErr("%v", err)
			}
			for _, r := range v.Failures {
				fmt.Fprintf(e.stdout, "DENY  %s: %s\n", r.RuleID, r.Message)
				for _, t := range r.Targets {
					fmt.Fprintf(e.stdout, "      - %s\n", t)
				}
			}
			for _, r := range v.Warnings {
				fmt.Fprintf(e.stdout, "WARN  %s: %s\n", r.RuleID, r.Message)
			}
			for _, x := range v.Expired {
				fmt.Fprintf(e.stdout, "EXPIRED %s\n", x)
			}
			if v.Pass {
				fmt.Fprintln(e.stdout, "PASS")
			} else {
				fmt.Fprintln(e.stdout, "FAIL")
			}
			e.exit = v.ExitCode
			return nil
		},
	}
	test.Flags().StringVar(&input, "input", "", "drydock JSON report to evaluate")
	cmd.AddCommand(test)
	return cmd
}
