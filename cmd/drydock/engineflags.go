package main

// Trivy's local-engine flags: --image-src (where a plain image name is
// looked for, in order), --docker-host and --podman-host (the engines' API
// sockets). docs/trivy-users.md and README's sources section describe them.

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drydock-scan/drydock/internal/source"
)

// defaultImageSources is drydock's --image-src default: a registry first
// (what a plain name has always meant, and what the server scans), then
// the local engines. Trivy's default is docker,containerd,podman,remote.
func defaultImageSources() []string {
	return []string{source.SourceRemote, source.SourceDocker, source.SourcePodman}
}

type engineFlags struct {
	sources                imageSources
	dockerHost, podmanHost string
}

func (f *engineFlags) add(cmd *cobra.Command) {
	f.sources.list = defaultImageSources()
	fl := cmd.Flags()
	fl.Var(&f.sources, "image-src", "where an image given by plain name (no scheme, not a path) is looked for, in order (comma-separated): remote (a registry), docker, podman; an image found after the first source is said on stderr and in the report")
	fl.StringVar(&f.dockerHost, "docker-host", "", "Docker Engine API socket for docker:IMAGE and --image-src docker: unix:///PATH, a path, or tcp://HOST:PORT (default $DOCKER_HOST, else unix:///var/run/docker.sock)")
	fl.StringVar(&f.podmanHost, "podman-host", "", "Podman API socket for podman:IMAGE and --image-src podman (default $CONTAINER_HOST, else $XDG_RUNTIME_DIR/podman/podman.sock if it exists, else /run/podman/podman.sock)")
}

// apply sets the source options.
func (f *engineFlags) apply(opt *source.Options) {
	opt.ImageSources = append([]string(nil), f.sources.list...)
	opt.DockerHost, opt.PodmanHost = f.dockerHost, f.podmanHost
	// The user's own engines: the CLI reads them (a server does not).
	opt.LocalEngines = true
}

// imageSources is the value of --image-src: comma-separated, repeatable,
// each list checked as it is set (from the flag, the environment or the
// config file alike), so a typo is a usage error.
type imageSources struct {
	list    []string
	changed bool
}

var _ pflag.SliceValue = (*imageSources)(nil)

func (s *imageSources) String() string { return "[" + strings.Join(s.list, ",") + "]" }
func (s *imageSources) Type() string   { return "strings" }

func (s *imageSources) Set(v string) error {
	var vals []string
	for _, x := range strings.Split(v, ",") {
		vals = append(vals, strings.ToLower(strings.TrimSpace(x)))
	}
	if s.changed {
		vals = append(append([]string(nil), s.list...), vals...)
	}
	return s.Replace(vals)
}

func (s *imageSources) Append(v string) error { return s.Set(v) }

func (s *imageSources) Replace(vals []string) error {
	vals = append([]string(nil), vals...)
	for i, v := range vals {
		vals[i] = strings.ToLower(strings.TrimSpace(v))
	}
	if err := source.CheckImageSources(vals); err != nil {
		return err
	}
	s.list, s.changed = vals, true
	return nil
}

func (s *imageSources) GetSlice() []string { return s.list }
