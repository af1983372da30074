package main

import "fmt"

// layerSpec is one layer of the benchmark image.
type layerSpec struct {
	// Name names the layer's cached tarball.
	Name string
	// CreatedBy is the Dockerfile step recorded in the history.
	CreatedBy string
	// Debs are Debian packages (by name; the mirror's candidate version)
	// unpacked into the layer; the layer also gets the cumulative dpkg status
	// file and the packages' file lists, as "apt-get install" would leave.
	Debs []string
	// NPM names a directory under bench/npm whose package-lock.json is
	// installed ("npm ci") into /app.
	NPM string
	// GoInstall are "module/cmd@version" programs built with the module
	// proxy into /usr/local/bin.
	GoInstall []string
	// AptCache puts the raw .deb files of every Deb layer below it into
	// /var/cache/apt/archives (a forgotten "apt-get clean": real,
	// incompressible bytes).
	AptCache bool
	// App is the application code layer; Changed selects its variant.
	App bool
}

// imageSpec is a whole benchmark image.
type imageSpec struct {
	Size   string
	Layers []layerSpec
}

// Debian bookworm packages. The base is what "debootstrap --variant=minbase"
// installs (Priority: required, apt and their dependencies) plus the
// libraries a runtime image usually adds.
var debBase = []string{
	"base-files", "base-passwd", "bash", "bsdutils", "coreutils", "dash", "debconf", "debian-archive-keyring",
	"debianutils", "diffutils", "dpkg", "findutils", "gcc-12-base", "gpgv", "grep", "gzip", "hostname",
	"init-system-helpers", "libacl1", "libapt-pkg6.0", "libattr1", "libaudit-common", "libaudit1", "libblkid1",
	"libbz2-1.0", "libc-bin", "libc6", "libcap-ng0", "libcap2", "libcrypt1", "libdb5.3", "libdebconfclient0",
	"libgcc-s1", "libgcrypt20", "libgmp10", "libgnutls30", "libgpg-error0", "libhogweed6", "libidn2-0", "liblz4-1",
	"liblzma5", "libmd0", "libmount1", "libnettle8", "libp11-kit0", "libpam-modules", "libpam-modules-bin",
	"libpam-runtime", "libpam0g", "libpcre2-8-0", "libseccomp2", "libselinux1", "libsemanage-common", "libsemanage2",
	"libsepol2", "libsmartcols1", "libstdc++6", "libsystemd0", "libtasn1-6", "libtinfo6", "libudev1", "libunistring2",
	"libxxhash0", "libzstd1", "login", "mawk", "mount", "ncurses-base", "ncurses-bin", "passwd", "perl-base", "sed",
	"sysvinit-utils", "tar", "tzdata", "usr-is-merged", "util-linux", "util-linux-extra", "zlib1g", "apt", "adduser",
	"libssl3", "ca-certificates", "openssl", "libsqlite3-0", "libexpat1", "libffi8", "libreadline8", "readline-common",
	"libncursesw6", "media-types", "netbase",
}

// debBaseSmall is the smallest base that still has a real distro and dpkg DB.
var debBaseSmall = []string{
	"base-files", "base-passwd", "bash", "coreutils", "dash", "debianutils", "dpkg", "findutils", "grep", "gzip",
	"libacl1", "libattr1", "libbz2-1.0", "libc6", "libcrypt1", "libgcc-s1", "liblzma5", "libmd0", "libpcre2-8-0",
	"libselinux1", "libtinfo6", "libzstd1", "mawk", "ncurses-base", "sed", "tar", "zlib1g", "libssl3",
	"ca-certificates", "libexpat1", "libffi8", "libsqlite3-0", "media-types", "libreadline8", "libncursesw6",
}

var debPython = []string{
	"python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "python3.11", "python3-minimal", "python3",
	"libpython3-stdlib", "python3-pkg-resources", "python3-setuptools", "python3-six", "python3-requests",
	"python3-urllib3", "python3-certifi", "python3-idna", "python3-chardet", "python3-charset-normalizer",
	"python3-yaml", "python3-numpy", "python3-scipy", "python3-pandas", "python3-pandas-lib", "python3-dateutil",
	"python3-tz", "python3-jinja2", "python3-markupsafe", "python3-cryptography", "python3-openssl",
	"python3-cffi-backend", "libopenblas0-pthread", "libopenblas0", "libgfortran5", "libquadmath0", "libblas3",
	"liblapack3", "python3-pip", "python3-wheel", "python3-distutils", "python3-lib2to3", "python3-flask",
	"python3-werkzeug", "python3-click", "python3-itsdangerous", "python3-sqlalchemy", "python3-psycopg2", "libpq5",
	"python3-lxml", "libxml2", "libxslt1.1", "python3-pil", "libjpeg62-turbo", "libtiff6", "libwebp7", "libfreetype6",
	"libpng16-16",
}

var debPythonSmall = []string{
	"python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "python3-minimal", "python3",
	"python3-requests", "python3-urllib3", "python3-certifi", "python3-idna", "python3-chardet", "python3-yaml",
}

var debJava = []string{
	"openjdk-17-jre-headless", "java-common", "ca-certificates-java", "libcommons-lang3-java", "libcommons-io-java",
	"libcommons-codec-java", "libcommons-logging-java", "libcommons-collections4-java", "libguava-java",
	"libjackson2-core-java", "libjackson2-databind-java", "libjackson2-annotations-java", "liblog4j2-java",
	"libslf4j-java", "libspring-core-java", "libspring-beans-java", "libspring-context-java", "libnetty-java",
	"libhttpclient-java", "libhttpcore-java", "libjsoup-java", "libjetty9-java", "libtomcat9-java", "libxerces2-java",
	"libbcprov-java", "libbcpkix-java", "libjna-java", "libasm-java", "libbyte-buddy-java", "libmockito-java",
	"libhamcrest-java", "libprotobuf-java", "libjoda-time-java", "libhibernate-validator-java", "libjaxb-api-java",
	"libatinject-jsr330-api-java", "libaopalliance-java", "liblz4-java", "libsnappy-java", "libzstd-jni-java",
	"libeclipse-jdt-core-java", "libgoogle-gson-java", "libreflections-java", "libcommons-compress-java",
	"libcommons-text-java", "libjsr305-java", "liberror-prone-java", "libcaffeine-java",
	"libjackson2-dataformat-yaml", "libjackson2-jr-java", "libmaven3-core-java",
}

var debJavaSmall = []string{
	"liblog4j2-java", "libguava-java", "libjackson2-core-java", "libjackson2-databind-java",
	"libjackson2-annotations-java", "libcommons-lang3-java", "libslf4j-java",
}

// Go programs as Debian ships them (real binaries with Go build info).
var debGo = []string{
	"docker-registry", "restic", "rclone", "hugo", "age", "fzf", "gh", "etcd-server", "etcd-client",
	"prometheus-node-exporter", "influxdb", "caddy", "direnv", "git-lfs",
}

var debGoSmall = []string{"docker-registry", "age", "fzf"}

// goInstall are built from source with the module proxy (already in the
// module cache: they are dependencies of drydock).
var goInstall = []string{"github.com/google/go-containerregistry/cmd/crane@v0.22.1"}

// debXL are the large real packages the xl image adds: toolchains and
// browsers, hundreds of MB each.
var debXL = []string{
	"golang-1.19-go", "golang-1.19-src", "openjdk-17-jdk-headless", "chromium", "chromium-common", "firefox-esr",
	"libllvm15", "gcc-12", "cpp-12", "g++-12", "libstdc++-12-dev", "libgcc-12-dev",
}

func specFor(size string) (imageSpec, error) {
	switch size {
	case "small":
		return imageSpec{Size: size, Layers: []layerSpec{
			{Name: "debian-base-small", CreatedBy: "ADD debian bookworm minimal rootfs /", Debs: debBaseSmall},
			{Name: "python-small", CreatedBy: "RUN apt-get install -y python3 python3-requests python3-yaml", Debs: debPythonSmall},
			{Name: "java-small", CreatedBy: "RUN apt-get install -y liblog4j2-java libguava-java libjackson2-databind-java", Debs: debJavaSmall},
			{Name: "go-small", CreatedBy: "RUN apt-get install -y docker-registry age fzf", Debs: debGoSmall},
			{Name: "node-small", CreatedBy: "RUN npm ci", NPM: "small"},
			{Name: "app", CreatedBy: "COPY . /app", App: true},
		}}, nil
	case "full", "xl":
		s := imageSpec{Size: size, Layers: []layerSpec{
			{Name: "debian-base", CreatedBy: "ADD debian bookworm minbase rootfs /", Debs: debBase},
			{Name: "python", CreatedBy: "RUN apt-get install -y python3 python3-numpy python3-scipy python3-pandas python3-flask …", Debs: debPython},
			{Name: "java", CreatedBy: "RUN apt-get install -y openjdk-17-jre-headless lib*-java", Debs: debJava},
			{Name: "go", CreatedBy: "RUN apt-get install -y docker-registry restic rclone hugo gh etcd … && go install crane", Debs: debGo, GoInstall: goInstall},
			{Name: "node", CreatedBy: "RUN npm ci", NPM: "full"},
		}}
		if size == "xl" {
			s.Layers = append(s.Layers,
				layerSpec{Name: "toolchains", CreatedBy: "RUN apt-get install -y golang-1.19 openjdk-17-jdk-headless chromium firefox-esr gcc-12 g++-12 llvm-15", Debs: debXL},
				layerSpec{Name: "apt-cache", CreatedBy: "RUN apt-get install … (no apt-get clean)", AptCache: true},
			)
		}
		s.Layers = append(s.Layers, layerSpec{Name: "app", CreatedBy: "COPY . /app", App: true})
		return s, nil
	}
	return imageSpec{}, fmt.Errorf("unknown size %q (small, full or xl)", size)
}
