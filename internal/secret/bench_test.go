package secret

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpus generates about size bytes of realistic text: Go and Python code,
// YAML and INI configuration, shell scripts and prose, with the words secret
// rules look for ("password", "token", "key", "secret", URLs) at the rate
// they appear in real files, and a planted secret every ~256 KiB.
func corpus(size int) []byte {
	g := newGen(99)
	words := strings.Fields(`the of and to in is for that with as on by this be are from at or an it
		not which can file if will when all configuration user server default value option set use
		password token key secret auth login session request response http https client config
		error return string int func package import list map type struct interface nil true false`)
	var b strings.Builder
	n := 0
	for b.Len() < size {
		n++
		switch n % 7 {
		case 0: // prose
			for range 6 {
				for i := range 12 {
					if i > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(words[g.r.IntN(len(words))])
				}
				b.WriteString(".\n")
			}
		case 1: // Go
			fmt.Fprintf(&b, "func (c *Client) Do%d(ctx context.Context, req *Request) (*Response, error) {\n", n)
			b.WriteString("\tif c.token == \"\" {\n\t\treturn nil, errors.New(\"no token\")\n\t}\n")
			b.WriteString("\treq.Header.Set(\"Authorization\", \"Bearer \"+c.token)\n")
			fmt.Fprintf(&b, "\tresp, err := c.http.Do(req.WithContext(ctx)) // attempt %d\n\treturn resp, err\n}\n\n", n)
		case 2: // Python
			fmt.Fprintf(&b, "def connect_%d(host, user, password=None, timeout=30):\n", n)
			b.WriteString("    \"\"\"Connect with the given password or the one from the keyring.\"\"\"\n")
			b.WriteString("    password = password or keyring.get_password(\"svc\", user)\n")
			b.WriteString("    return Session(host=host, user=user, password=password, verify=True)\n\n")
		case 3: // YAML
			fmt.Fprintf(&b, "service_%d:\n  image: registry.internal/app:%d.%d\n  environment:\n", n, n%10, n%7)
			b.WriteString("    DB_HOST: db\n    DB_PASSWORD: ${DB_PASSWORD}\n    API_TOKEN_FILE: /run/secrets/api_token\n")
			fmt.Fprintf(&b, "  ports:\n    - \"%d:8080\"\n  healthcheck:\n    test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8080/health\"]\n\n", 8000+n%1000)
		case 4: // shell
			b.WriteString("#!/bin/sh\nset -eu\n")
			fmt.Fprintf(&b, "for f in /etc/app/conf.d/*.conf; do\n  . \"$f\"\ndone\nexec /usr/bin/app --config /etc/app/app%d.conf \"$@\"\n\n", n)
		case 5: // INI and a base64 blob (a certificate)
			fmt.Fprintf(&b, "[section%d]\nkey_file = /etc/ssl/private/app.key\nsecret_name = app-secret\nurl = https://docs.internal/page%d\n", n, n)
			b.WriteString("-----BEGIN CERTIFICATE-----\n")
			for range 6 {
				b.WriteString(g.from(b64Chars, 64))
				b.WriteByte('\n')
			}
			b.WriteString("-----END CERTIFICATE-----\n\n")
		case 6:
			if n%1024 == 6 {
				b.WriteString("GITHUB_TOKEN=ghp_" + g.alnum(36) + "\n")
			}
			fmt.Fprintf(&b, "// Copyright %d The Authors. All rights reserved.\n// Use of this source code is governed by a BSD-style license.\n\n", 2000+n%25)
		}
	}
	return []byte(b.String())
}

// BenchmarkScan measures the engine on 4 MiB of generated text, one file.
func BenchmarkScan(b *testing.B) {
	s := newScanner(b, nil)
	data := corpus(4 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		inv, err := s.Extract(context.Background(), input("/app/src/all.txt", data))
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Hits) == 0 {
			b.Fatal("the planted tokens were not found")
		}
	}
}

// BenchmarkScanFiles measures the engine on the same text cut into 8 KiB
// files, the typical size of a configuration file or script.
func BenchmarkScanFiles(b *testing.B) {
	s := newScanner(b, nil)
	data := corpus(4 << 20)
	var files [][]byte
	for len(data) > 0 {
		n := min(len(data), 8<<10)
		files = append(files, data[:n])
		data = data[n:]
	}
	b.SetBytes(4 << 20)
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			if _, err := s.Extract(context.Background(), input("/etc/app/x.conf", f)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkScanDebian measures the engine on the text files of a real
// Debian root filesystem ($DRYDOCK_DEBOOTSTRAP_ROOTFS), the files Wants
// selects.
func BenchmarkScanDebian(b *testing.B) {
	root := os.Getenv("DRYDOCK_DEBOOTSTRAP_ROOTFS")
	if root == "" {
		b.Skip("DRYDOCK_DEBOOTSTRAP_ROOTFS not set")
	}
	s := newScanner(b, nil)
	type file struct {
		path string
		data []byte
	}
	var files []file
	total := 0
	err := filepath.Walk(root, func(fp string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, fp)
		p := "/" + filepath.ToSlash(rel)
		if !s.Wants(p, info.Mode(), info.Size()) {
			return nil
		}
		data, err := os.ReadFile(fp)
		if err != nil {
			return err
		}
		files = append(files, file{p, data})
		total += len(data)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			_, _ = s.Extract(context.Background(), input(f.path, f.data))
		}
	}
}
