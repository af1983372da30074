package scan

import (
	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/apk"
	"github.com/drydock-scan/drydock/internal/extract/cargo"
	"github.com/drydock-scan/drydock/internal/extract/composer"
	"github.com/drydock-scan/drydock/internal/extract/dotnet"
	"github.com/drydock-scan/drydock/internal/extract/dpkg"
	"github.com/drydock-scan/drydock/internal/extract/gem"
	"github.com/drydock-scan/drydock/internal/extract/gobinary"
	"github.com/drydock-scan/drydock/internal/extract/java"
	"github.com/drydock-scan/drydock/internal/extract/npm"
	"github.com/drydock-scan/drydock/internal/extract/osrelease"
	"github.com/drydock-scan/drydock/internal/extract/python"
	"github.com/drydock-scan/drydock/internal/extract/rpm"
)

// DefaultExtractors is the explicit list of extractors a scan runs.
func DefaultExtractors() []extract.Extractor {
	return []extract.Extractor{
		osrelease.New(),
		apk.New(),
		dpkg.New(),
		rpm.New(),
		gobinary.New(),
		java.New(),
		python.New(),
		npm.New(),
		gem.New(),
		composer.New(),
		cargo.New(),
		dotnet.New(),
	}
}
