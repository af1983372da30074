{{- /*
  drydock output template: one CSV row per vulnerability finding (RFC 4180).

  Usage: drydock scan --format template --template @docs/templates/csv.tpl IMAGE > findings.csv

  .Findings are already sorted by severity; suppressed findings are included
  with their status (e.g. "vex:not_affected" shows as "suppressed" here).
  Malware (.Malware: malicious packages and known-bad files) comes first, with
  the status "malware" and "suppressed" true when an ignore entry allowed it.
*/ -}}
severity,vulnerability,aliases,package,ecosystem,installed_version,fixed_version,status,suppressed,kev,cvss,layer,path,title
{{range .Malware -}}
{{escapeCSV .Severity}},{{escapeCSV .ID}},{{escapeCSV (join " " .Aliases)}},{{with .Package}}{{escapeCSV .Name}},{{escapeCSV .Ecosystem}},{{escapeCSV .Version}}{{else}},,{{end}},,malware,{{.Allowed}},false,,{{.LayerIndex}},{{with .Package}}{{escapeCSV .Path}}{{else}}{{escapeCSV .Path}}{{end}},{{escapeCSV .Title}}
{{end -}}
{{range .Findings -}}
{{escapeCSV .Severity}},{{escapeCSV .ID}},{{escapeCSV (join " " .Aliases)}},{{escapeCSV .Package.Name}},{{escapeCSV .Package.Ecosystem}},{{escapeCSV .InstalledVersion}},{{escapeCSV .FixedVersion}},{{escapeCSV .Status}},{{suppressed .}},{{.KEV}},{{range $i, $c := .CVSS}}{{if $i}} {{end}}{{$c.Score}}{{end}},{{.Package.LayerIndex}},{{escapeCSV .Package.Path}},{{escapeCSV .Title}}
{{end -}}
