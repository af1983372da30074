package main

import (
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
)

// misconfigCheck runs the image configuration checks.
var misconfigCheck func(report.Image, *inventory.Inventory) []report.Misconfig = nil
