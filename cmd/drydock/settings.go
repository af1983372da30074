package main

// Settings, as Trivy's users expect them: every flag of every command can be
// set on the command line, by $DRYDOCK_<FLAG> (--exit-code is
// $DRYDOCK_EXIT_CODE), or in a YAML config file (--config, $DRYDOCK_CONFIG,
// or drydock.yaml in the working directory), in that order of precedence:
// flag > environment > file > default.
//
// The file holds flags by name, at the top level (for every command that
// has the flag) or under a command's name, nested as the commands are
// (the most specific wins):
//
//	cache-dir: /var/cache/drydock
//	severity: [CRITICAL, HIGH]     # image, sbom… (every command with --severity)
//	image:
//	  exit-code: 1
//	db:
//	  update:
//	    source: [https://mirror.example/drydock]
//
// A key that is neither a flag of some command nor a command name is an
// error naming the file: a typo must never be ignored.

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// defaultConfigFile is read from the working directory when neither
// --config nor $DRYDOCK_CONFIG names a file.
const defaultConfigFile = "drydock.yaml"

// settingsOnly annotates a command whose flags are read from the
// environment and the file only for the names listed (comma-separated):
// the token commands take only postgres from a server's configuration.
const settingsOnly = "drydock.settings.only"

// envName is the environment variable of a flag: --scan-timeout is
// $DRYDOCK_SCAN_TIMEOUT.
func envName(flag string) string {
	return "DRYDOCK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// configFile returns the config file to read and whether it was named
// (--config or $DRYDOCK_CONFIG) rather than found in the working
// directory; "" when there is none.
func configFile(cmd *cobra.Command) (string, bool) {
	if f := cmd.Flags().Lookup("config"); f != nil && f.Changed {
		return f.Value.String(), true
	}
	if p := os.Getenv(envName("config")); p != "" {
		return p, true
	}
	if _, err := os.Stat(defaultConfigFile); err == nil {
		return defaultConfigFile, false
	}
	return "", false
}

// readConfig reads and checks a config file against the command tree.
func readConfig(root *cobra.Command, path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("reading the config file: %v", err)
	}
	file := map[string]any{}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	if unknown := unknownKeys(root, file, allFlags(root), ""); len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, usageErr("%s: unknown setting %s (settings are flags, by name, at the top level or under a command's name)",
			path, strings.Join(unknown, ", "))
	}
	return file, nil
}

// allFlags are the names of every flag of every command under root.
func allFlags(root *cobra.Command) map[string]bool {
	out := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	delete(out, "config")
	delete(out, "help")
	return out
}

// flagsUnder are the names of the flags a command's section of the file
// may set: those of the command and its subcommands, and those it
// inherits.
func flagsUnder(c *cobra.Command) map[string]bool {
	out := allFlags(c)
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	delete(out, "config")
	delete(out, "help")
	return out
}

// unknownKeys lists the keys of m (the settings of command c) that are
// neither in flags nor a subcommand of c; a subcommand's section is
// checked against its own flags (flagsUnder): a flag of another command
// there would never be read.
func unknownKeys(c *cobra.Command, m map[string]any, flags map[string]bool, prefix string) []string {
	var out []string
	for k, v := range m {
		if sub := subcommand(c, k); sub != nil {
			if nested, ok := v.(map[string]any); ok {
				out = append(out, unknownKeys(sub, nested, flagsUnder(sub), prefix+k+".")...)
				continue
			}
		}
		if !flags[k] {
			out = append(out, prefix+k)
		}
	}
	return out
}

func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name {
			return sub
		}
	}
	return nil
}

// fileValue returns the file's value for flag name of cmd: the most
// specific level of the command's path that sets it.
func fileValue(file map[string]any, cmd *cobra.Command, name string) (any, bool) {
	var path []string
	for c := cmd; c.HasParent(); c = c.Parent() {
		path = append([]string{c.Name()}, path...)
	}
	levels := []map[string]any{file}
	for _, p := range path {
		next, ok := levels[len(levels)-1][p].(map[string]any)
		if !ok {
			break
		}
		levels = append(levels, next)
	}
	for i := len(levels) - 1; i >= 0; i-- {
		if v, ok := levels[i][name]; ok && v != nil {
			if _, isCmd := v.(map[string]any); isCmd && i == 0 && subcommand(cmd.Root(), name) != nil {
				continue // a command's section, not a value
			}
			return v, true
		}
	}
	return nil, false
}

// applySettings sets every flag of cmd (its own and inherited) that the
// command line did not set: from $DRYDOCK_<FLAG>, else from the config
// file. With only, just those flags.
func applySettings(e *env, cmd *cobra.Command, only ...string) error {
	if o := cmd.Annotations[settingsOnly]; o != "" && len(only) == 0 {
		only = strings.Split(o, ",")
	}
	var file map[string]any
	if path, named := configFile(cmd); path != "" {
		var err error
		if file, err = readConfig(cmd.Root(), path); err != nil {
			return err
		}
		if e.log != nil {
			e.log.Debug("settings read", "file", path, "named", named)
		}
		e.configFile = path
	}
	fl := cmd.Flags()
	var errs []error
	fl.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" || (len(only) > 0 && !slices.Contains(only, f.Name)) {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok && v != "" {
			if err := fl.Set(f.Name, v); err != nil {
				errs = append(errs, usageErr("$%s: %v", envName(f.Name), err))
			}
			return
		}
		v, ok := fileValue(file, cmd, f.Name)
		if !ok {
			return
		}
		if err := setFromFile(fl, f, v); err != nil {
			errs = append(errs, usageErr("%s: %s: %v", e.configFile, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// setFromFile sets f from a config file value: a scalar, or a list for a
// flag that takes several values (--severity, --vex…).
func setFromFile(fl *pflag.FlagSet, f *pflag.Flag, v any) error {
	switch v := v.(type) {
	case map[string]any:
		return errors.New("must be a value, not a mapping")
	case []any:
		sv, ok := f.Value.(pflag.SliceValue)
		if !ok {
			return errors.New("takes one value, not a list")
		}
		vals := make([]string, len(v))
		for i, x := range v {
			vals[i] = fmt.Sprint(x)
		}
		if err := sv.Replace(vals); err != nil {
			return err
		}
		f.Changed = true
		return nil
	}
	return fl.Set(f.Name, fmt.Sprint(v))
}
