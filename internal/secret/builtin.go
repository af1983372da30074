package secret

import (
	"regexp"
	"strings"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// RulesVersion is bumped whenever a built-in rule or the engine changes what
// is found in the same input; it is the extractor's Version with the
// built-in configuration.
const RulesVersion = 1

// Building blocks of the regexes below.
const (
	// assign is "name = value" punctuation in code and config files:
	// NAME=, name: , "name": ", 'name' => ', name := .
	assign = `["']?\s*(?::=|=>|=|:)\s*["']?`
	// end closes a token whose alphabet includes '-' and '_'.
	end = `(?:[^A-Za-z0-9_\-]|$)`
	// pemGap is what separates a PEM header from its body and body lines:
	// real newlines and spaces, or "\n" escapes inside a JSON/YAML string.
	pemGap = `(?:\\r|\\n|\s)+`
	// pemBody is a PEM body: optional "Name: value" header lines
	// (Proc-Type, DEK-Info, Version, Comment), then base64 lines, at least
	// one of them 40 characters long, so that code that merely names the
	// header ("-----BEGIN RSA PRIVATE KEY-----" in a parser) is not a key.
	pemBody = `(?P<secret>(?:[A-Za-z][A-Za-z\-]*:[^\r\n\\]*` + pemGap + `)*[A-Za-z0-9+/=]{40,}(?:` + pemGap + `[A-Za-z0-9+/=]+)*)`
	// dbURL is the user:password@ part of a connection URL.
	dbURL = `://[^\s:@/'"<>]*:(?P<secret>[^\s@/'"<>]{3,})@[^\s'"<>]+`
	// genericValue is the value of a "name = value" assignment; quotes,
	// brackets and separators end it.
	genericValue = `["'\x60]?(?P<secret>[^\s"'\x60,;<>(){}\[\]]`
	// namePrefix starts the regex of an assignment rule: a boundary, then
	// the variable name (group "name") holding the keyword; such a rule can
	// use AnchorName.
	namePrefix = `(?:^|[^A-Za-z0-9])(?P<name>[A-Za-z0-9_.\-]*`
)

// token builds a rule for a token with a literal prefix: the prefix is the
// keyword, the token must start at a word boundary and end at a character
// outside its alphabet.
func token(id, title, sev, cat, prefix, rest string) Rule {
	return Rule{
		ID: id, Title: title, Severity: sev, Category: cat,
		Keywords: []string{strings.ToLower(prefix)},
		Regex:    `\b(?P<secret>` + regexp.QuoteMeta(prefix) + rest + `)` + end,
		Anchor:   AnchorKeyword,
	}
}

// pem builds a rule for a PEM private key block of the given label.
func pem(id, title, sev, label string) Rule {
	return Rule{
		ID: id, Title: title, Severity: sev, Category: "PrivateKey",
		Keywords:  []string{strings.ToLower("-----BEGIN " + label + "-----")},
		Regex:     regexp.QuoteMeta("-----BEGIN "+label+"-----") + pemGap + pemBody,
		Multiline: true,
	}
}

// named builds a rule for a value assigned to a name that says what it is
// (the keywords are parts of the name).
func named(id, title, sev, cat string, keywords []string, name, value string) Rule {
	return Rule{
		ID: id, Title: title, Severity: sev, Category: cat, Keywords: keywords,
		Regex: `(?i)` + name + assign + `(?P<secret>` + value + `)` + end,
	}
}

// dburl builds a rule for a connection URL with a password.
func dburl(id, title, schemes string, keywords []string) Rule {
	return Rule{
		ID: id, Title: title, Severity: vocab.SevHigh, Category: "Database", Keywords: keywords,
		Regex:   `\b(?i:` + schemes + `)(?:\+[a-z0-9]+)?` + dbURL,
		Anchor:  AnchorKeyword,
		Generic: true,
	}
}

// generic builds a "name = value" rule gated by entropy and the generic
// placeholder checks. name is matched case-insensitively; the value is at
// least minLen bytes.
func generic(id, title, sev string, keywords []string, name string, minLen string, ent float64) Rule {
	return Rule{
		ID: id, Title: title, Severity: sev, Category: "generic", Keywords: keywords,
		Anchor:  AnchorName,
		Regex:   namePrefix + `(?i:` + name + `)[A-Za-z0-9_.\-]*)["']?\s*(?::=|=>|==|=|:)\s*` + genericValue + `{` + minLen + `,})`,
		Entropy: ent,
		Generic: true,
	}
}

// builtinAllow are global allow rules for known public test material that
// ships in common images outside any test directory.
func builtinAllow() []Allow {
	return []Allow{{
		Description: "the test key of Go's crypto/x509 platform tests, in every golang image",
		Path:        `/src/crypto/x509/platform_root_key\.pem$`,
	}}
}

// allowing returns r with more allow rules.
func allowing(r Rule, a ...Allow) Rule {
	r.Allow = append(r.Allow, a...)
	return r
}

// Builtin returns drydock's built-in rules, in priority order: when two
// rules match the same bytes, the earlier one wins (and any rule wins over
// a generic one). The slice is new on every call.
func Builtin() []Rule {
	const (
		crit = vocab.SevCritical
		high = vocab.SevHigh
		med  = vocab.SevMedium
		low  = vocab.SevLow
	)
	// The example client credentials and tokens of RFC 6749 (OAuth 2.0),
	// copied into many libraries' documentation.
	rfc6749 := Allow{
		Description: "RFC 6749 examples",
		Secret:      `^(?:czZCaGRSa3F0MzpnWDFmQmF0M2JW|2YotnFZFEjr1zCsicMWpAA|tGzv3JOkF0XG5Qx2TlKWIA|SplxlOBeZQQYbYS6WxSbIA)`,
	}
	hex := func(n string) string { return `[a-f0-9]{` + n + `}` }
	rules := []Rule{
		// --- Cloud providers ---
		{
			ID: "aws-access-key-id", Title: "AWS access key ID", Severity: crit, Category: "AWS",
			Keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
			Regex:    `\b(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`,
		},
		{
			ID: "aws-secret-access-key", Title: "AWS secret access key", Severity: crit, Category: "AWS",
			Keywords: []string{"secretaccesskey", "secret_access_key", "secret-access-key", "awssecret", "aws_secret", "aws-secret", "aws.secret"},
			Regex:    `(?i)(?:aws[_.\-]?secret[_\-]?(?:access[_\-]?)?key|secret[_\-]?access[_\-]?key)` + assign + `(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`,
			Entropy:  3.5,
		},
		{
			// The secret key written right after its key ID: the console's
			// credentials.csv ("AKIA…,wJal…"), "aws configure" transcripts,
			// code passing both. The ID is reported by aws-access-key-id.
			ID: "aws-credentials-pair", Title: "AWS secret access key next to its access key ID", Severity: crit, Category: "AWS",
			Keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
			Regex:    `\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}["']?[ \t]*[,;:|\t ][ \t]*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`,
			Entropy:  3.5,
			Anchor:   AnchorKeyword,
		},
		{
			ID: "aws-session-token", Title: "AWS temporary session token", Severity: high, Category: "AWS",
			Keywords: []string{"iqojb3jpz2lu", "fwogzxivyxdz"},
			Regex:    `(?P<secret>(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9/+=]{100,})`,
		},
		token("aws-mws-auth-token", "Amazon MWS auth token", high, "AWS", "amzn.mws.", hex("8")+`-`+hex("4")+`-`+hex("4")+`-`+hex("4")+`-`+hex("12")),
		token("aws-bedrock-api-key", "Amazon Bedrock API key", high, "AWS", "ABSK", `[A-Za-z0-9+/]{100,}={0,2}`),
		{
			ID: "gcp-service-account-key", Title: "Google Cloud service account key (JSON)", Severity: crit, Category: "GCP",
			Keywords:  []string{"service_account"},
			Regex:     `(?s)"type"\s*:\s*"service_account".{0,1000}?"private_key"\s*:\s*"(?P<secret>-----BEGIN[ A-Z]{0,20}PRIVATE KEY-----[^"]{40,})"`,
			Multiline: true,
		},
		token("gcp-api-key", "Google API key", high, "GCP", "AIza", `[0-9A-Za-z_\-]{35}`),
		token("gcp-oauth-client-secret", "Google OAuth client secret", high, "GCP", "GOCSPX-", `[A-Za-z0-9_\-]{28}`),
		token("gcp-oauth-access-token", "Google OAuth access token", med, "GCP", "ya29.", `[0-9A-Za-z_\-]{30,}`),
		{
			ID: "azure-storage-account-key", Title: "Azure storage account key", Severity: crit, Category: "Azure",
			Keywords: []string{"accountkey"},
			Regex:    `(?i)AccountKey\s*=\s*(?P<secret>[A-Za-z0-9+/]{86}==)`,
		},
		{
			ID: "azure-sas-token", Title: "Azure shared access signature", Severity: high, Category: "Azure",
			Keywords: []string{"sv=20"},
			Regex:    `\bsv=\d{4}-\d{2}-\d{2}&[^\s"'<>]*?\bsig=(?P<secret>[A-Za-z0-9%+/]{40,}={0,2})`,
		},
		{
			ID: "azure-ad-client-secret", Title: "Azure AD (Entra ID) client secret", Severity: high, Category: "Azure",
			Keywords: []string{"q~"},
			Regex:    `(?:^|[^A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)`,
		},
		token("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", high, "Alibaba", "LTAI", `[A-Za-z0-9]{12,20}`),
		{
			ID: "cloudflare-api-token", Title: "Cloudflare API token", Severity: high, Category: "Cloudflare",
			Keywords: []string{"cloudflare", "cf_api", "cf-api", "cf_token", "cf-token"},
			Regex:    `(?i)(?:cloudflare|cf)[_\-]?(?:api[_\-]?)?(?:token|key)` + assign + `(?P<secret>[A-Za-z0-9_\-]{37,40})` + end,
			Entropy:  3.5,
		},
		token("cloudflare-origin-ca-key", "Cloudflare Origin CA key", high, "Cloudflare", "v1.0-", hex("24")+`-`+hex("146")),
		token("digitalocean-pat", "DigitalOcean personal access token", crit, "DigitalOcean", "dop_v1_", hex("64")),
		token("digitalocean-oauth-token", "DigitalOcean OAuth token", high, "DigitalOcean", "doo_v1_", hex("64")),
		token("digitalocean-refresh-token", "DigitalOcean refresh token", high, "DigitalOcean", "dor_v1_", hex("64")),
		{
			ID: "heroku-api-key", Title: "Heroku API key", Severity: high, Category: "Heroku",
			Keywords: []string{"heroku"},
			Regex:    `(?i)heroku[\w.\-]{0,30}?(?:api[_\-]?key|token|key|secret)` + assign + `(?P<secret>` + hex("8") + `-` + hex("4") + `-` + hex("4") + `-` + hex("4") + `-` + hex("12") + `)\b`,
		},
		token("heroku-api-key-v2", "Heroku API key", high, "Heroku", "HRKU-AA", `[A-Za-z0-9_\-]{58}`),
		{
			ID: "terraform-cloud-token", Title: "Terraform Cloud / Enterprise API token", Severity: crit, Category: "HashiCorp",
			Keywords: []string{"atlasv1"},
			Regex:    `\b(?P<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70})` + end,
		},
		token("vault-service-token", "HashiCorp Vault service token", high, "HashiCorp", "hvs.", `[A-Za-z0-9_\-]{24,}`),
		token("vault-batch-token", "HashiCorp Vault batch token", high, "HashiCorp", "hvb.", `[A-Za-z0-9_\-]{100,}`),
		// drydock's own API tokens (store.CreateToken: "ddk_" + 32 random bytes, base64url).
		token("drydock-api-token", "drydock server API token", high, "drydock", "ddk_", `[A-Za-z0-9_\-]{43}`),
		token("flyio-access-token", "Fly.io access token", high, "Fly.io", "fo1_", `[A-Za-z0-9_\-]{43}`),
		token("supabase-access-token", "Supabase access token", high, "Supabase", "sbp_", hex("40")),
		token("planetscale-token", "PlanetScale token or password", high, "PlanetScale", "pscale_", `(?:tkn|pw|oauth)_[A-Za-z0-9_\-.]{32,64}`),
		token("databricks-token", "Databricks access token", high, "Databricks", "dapi", hex("32")+`(?:-\d)?`),

		// --- Source hosting and CI ---
		token("github-pat", "GitHub personal access token (classic)", crit, "GitHub", "ghp_", `[A-Za-z0-9]{36}`),
		token("github-oauth-token", "GitHub OAuth access token", crit, "GitHub", "gho_", `[A-Za-z0-9]{36}`),
		token("github-app-user-token", "GitHub App user-to-server token", crit, "GitHub", "ghu_", `[A-Za-z0-9]{36}`),
		token("github-app-installation-token", "GitHub App installation token", high, "GitHub", "ghs_", `[A-Za-z0-9]{36}`),
		token("github-refresh-token", "GitHub refresh token", high, "GitHub", "ghr_", `[A-Za-z0-9]{36,76}`),
		token("github-fine-grained-pat", "GitHub fine-grained personal access token", crit, "GitHub", "github_pat_", `[A-Za-z0-9]{22}_[A-Za-z0-9]{59}`),
		token("gitlab-pat", "GitLab personal access token", crit, "GitLab", "glpat-", `[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)*`),
		token("gitlab-deploy-token", "GitLab deploy token", high, "GitLab", "gldt-", `[A-Za-z0-9_\-]{20,}`),
		token("gitlab-runner-token", "GitLab runner authentication token", high, "GitLab", "glrt-", `[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)*`),
		token("gitlab-runner-registration-token", "GitLab runner registration token", high, "GitLab", "GR1348941", `[A-Za-z0-9_\-]{20}`),
		token("gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", high, "GitLab", "glptt-", hex("40")),
		token("gitlab-cicd-job-token", "GitLab CI/CD job token", med, "GitLab", "glcbt-", `[0-9A-Za-z]{1,5}_[0-9A-Za-z_\-]{20}`),
		token("gitlab-feed-token", "GitLab feed token", med, "GitLab", "glft-", `[0-9A-Za-z_\-]{20}`),
		token("gitlab-oauth-app-secret", "GitLab OAuth application secret", high, "GitLab", "gloas-", `[0-9A-Za-z_\-]{64}`),
		token("gitlab-scim-token", "GitLab SCIM token", high, "GitLab", "glsoat-", `[0-9A-Za-z_\-]{20}`),
		token("gitlab-incoming-mail-token", "GitLab incoming mail token", med, "GitLab", "glimt-", `[0-9A-Za-z_\-]{25}`),
		token("gitlab-agent-token", "GitLab agent for Kubernetes token", high, "GitLab", "glagent-", `[0-9A-Za-z_\-]{50}`),
		token("bitbucket-app-password", "Bitbucket app password", high, "Atlassian", "ATBB", `[A-Za-z0-9_=.\-]{28,}`),
		token("atlassian-api-token", "Atlassian API token", high, "Atlassian", "ATATT3", `[A-Za-z0-9_\-=]{150,}`),
		token("circleci-pat", "CircleCI personal API token", high, "CircleCI", "CCIPAT_", `[A-Za-z0-9]{22}_`+hex("40")),
		token("buildkite-token", "Buildkite API access token", high, "Buildkite", "bkua_", hex("40")),
		{
			ID: "sonarqube-token", Title: "SonarQube / SonarCloud token", Severity: high, Category: "Sonar",
			Keywords: []string{"sqp_", "squ_", "sqa_"},
			Regex:    `\b(?P<secret>sq[pua]_` + hex("40") + `)\b`,
		},
		token("postman-api-key", "Postman API key", high, "Postman", "PMAK-", hex("24")+`-`+hex("34")),
		token("pulumi-access-token", "Pulumi access token", high, "Pulumi", "pul-", hex("40")),
		{
			ID: "doppler-token", Title: "Doppler token", Severity: high, Category: "Doppler",
			Keywords: []string{"dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."},
			Regex:    `\b(?P<secret>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b`,
		},
		token("linear-api-key", "Linear API key", high, "Linear", "lin_api_", `[A-Za-z0-9]{40}`),
		{
			ID: "notion-integration-token", Title: "Notion integration token", Severity: high, Category: "Notion",
			Keywords: []string{"ntn_", "secret_"},
			Regex:    `\b(?P<secret>ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})\b`,
		},

		// --- Package registries ---
		token("npm-access-token", "npm access token", crit, "npm", "npm_", `[A-Za-z0-9]{36}`),
		{
			ID: "npmrc-auth-token", Title: "npm registry token in .npmrc", Severity: crit, Category: "npm",
			Keywords: []string{"_authtoken"},
			Paths:    []string{`(?:^|/)\.?npmrc$`},
			Regex:    `(?i)_authToken\s*=\s*["']?(?P<secret>[^\s"']{8,})`,
		},
		{
			ID: "npmrc-auth", Title: "npm registry credentials (_auth/_password) in .npmrc", Severity: high, Category: "npm",
			Keywords: []string{"_auth", "_password"},
			Paths:    []string{`(?:^|/)\.?npmrc$`},
			Regex:    `(?:^|[\s:])(?:_auth|_password)\s*=\s*["']?(?P<secret>[A-Za-z0-9+/]{8,}={0,2})`,
		},
		{
			ID: "pypi-upload-token", Title: "PyPI upload token", Severity: crit, Category: "PyPI",
			Keywords: []string{"pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"},
			Regex:    `\b(?P<secret>pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,})` + end,
		},
		{
			ID: "pypirc-password", Title: "Package index password in .pypirc", Severity: high, Category: "PyPI",
			Keywords: []string{"password"},
			Paths:    []string{`(?:^|/)\.pypirc$`},
			Regex:    `(?im)^[ \t]*password[ \t]*[:=][ \t]*(?P<secret>\S{4,})`,
		},
		token("rubygems-api-key", "RubyGems API key", crit, "RubyGems", "rubygems_", hex("48")),
		token("nuget-api-key", "NuGet API key", high, "NuGet", "oy2", `[a-z0-9]{43}`),
		token("clojars-token", "Clojars deploy token", high, "Clojars", "CLOJARS_", `[a-z0-9]{60}`),
		{
			ID: "dockerhub-pat", Title: "Docker Hub access token", Severity: crit, Category: "Docker",
			Keywords: []string{"dckr_pat_", "dckr_oat_"},
			Regex:    `\b(?P<secret>dckr_(?:pat|oat)_[A-Za-z0-9_\-]{24,40})` + end,
		},
		{
			ID: "docker-config-auth", Title: "Registry credentials in a Docker config file", Severity: high, Category: "Docker",
			Keywords: []string{`"auth"`, `"identitytoken"`},
			Paths:    []string{`(?:^|/)\.docker/config\.json$`, `(?:^|/)\.dockercfg$`},
			Regex:    `"(?:auth|identitytoken)"\s*:\s*"(?P<secret>[A-Za-z0-9+/_\-.]{8,}={0,2})"`,
		},
		token("jfrog-api-key", "JFrog Artifactory API key", high, "JFrog", "AKCp", `[A-Za-z0-9]{69}`),
		token("jfrog-identity-token", "JFrog identity token", high, "JFrog", "cmVmdGtuOjAxOj", `[A-Za-z0-9]{50,}`),

		// --- Messaging ---
		token("slack-bot-token", "Slack bot token", high, "Slack", "xoxb-", `[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}`),
		{
			ID: "slack-user-token", Title: "Slack user token", Severity: high, Category: "Slack",
			Keywords: []string{"xoxp-", "xoxe-"},
			Regex:    `\b(?P<secret>xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{28,34})` + end,
		},
		token("slack-app-token", "Slack app-level token", high, "Slack", "xapp-", `\d-[A-Z0-9]{9,12}-\d{10,13}-[a-f0-9]{60,70}`),
		{
			ID: "slack-legacy-token", Title: "Slack legacy token", Severity: med, Category: "Slack",
			Keywords: []string{"xoxo-", "xoxs-", "xoxa-", "xoxr-"},
			Regex:    `\b(?P<secret>xox[osar]-\d{6,}-[0-9A-Za-z\-]{10,})` + end,
		},
		{
			ID: "slack-webhook-url", Title: "Slack incoming webhook URL", Severity: med, Category: "Slack",
			Keywords: []string{"hooks.slack.com"},
			Regex:    `https://hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9+_\-]{8,}(?:/[A-Za-z0-9+_\-]+)+)`,
		},
		{
			ID: "microsoft-teams-webhook-url", Title: "Microsoft Teams incoming webhook URL", Severity: med, Category: "Microsoft",
			Keywords: []string{"webhook.office.com"},
			Regex:    `https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9\-@]+/IncomingWebhook/(?P<secret>[A-Za-z0-9]{32})/[A-Za-z0-9\-]+`,
		},
		{
			ID: "discord-bot-token", Title: "Discord bot token", Severity: high, Category: "Discord",
			Keywords: []string{"discord"},
			Regex:    `\b(?P<secret>[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})` + end,
		},
		{
			ID: "discord-webhook-url", Title: "Discord webhook URL", Severity: med, Category: "Discord",
			Keywords: []string{"discord"},
			Regex:    `https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/(?P<secret>[A-Za-z0-9_\-]{60,68})`,
		},
		{
			ID: "telegram-bot-token", Title: "Telegram bot token", Severity: high, Category: "Telegram",
			Keywords: []string{":aa"},
			Regex:    `\b(?P<secret>[0-9]{8,10}:AA[A-Za-z0-9_\-]{33})` + end,
		},
		{
			ID: "twilio-api-key", Title: "Twilio API key", Severity: high, Category: "Twilio",
			Keywords: []string{"twilio"},
			Regex:    `\b(?P<secret>SK[0-9a-fA-F]{32})\b`,
		},
		{
			ID: "twilio-account-sid", Title: "Twilio account SID", Severity: low, Category: "Twilio",
			Keywords: []string{"twilio"},
			Regex:    `\b(?P<secret>AC[0-9a-fA-F]{32})\b`,
		},
		named("twilio-auth-token", "Twilio auth token", high, "Twilio", []string{"twilio"},
			`twilio[\w.\-]{0,30}?(?:auth[_\-]?)?token`, hex("32")),
		token("sendgrid-api-key", "SendGrid API key", high, "SendGrid", "SG.", `[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}`),
		token("mailgun-api-key", "Mailgun API key", high, "Mailgun", "key-", hex("32")),
		{
			ID: "mailgun-signing-key", Title: "Mailgun API or webhook signing key", Severity: high, Category: "Mailgun",
			Keywords: []string{"mailgun"},
			Regex:    `\b(?P<secret>` + hex("32") + `-` + hex("8") + `-` + hex("8") + `)\b`,
		},
		{
			ID: "mailchimp-api-key", Title: "Mailchimp API key", Severity: high, Category: "Mailchimp",
			Keywords: []string{"-us"},
			Regex:    `\b(?P<secret>` + hex("32") + `-us[0-9]{1,2})\b`,
		},

		// --- Payments and commerce ---
		token("stripe-secret-key", "Stripe live secret key", crit, "Stripe", "sk_live_", `[0-9A-Za-z]{24,99}`),
		token("stripe-restricted-key", "Stripe live restricted key", high, "Stripe", "rk_live_", `[0-9A-Za-z]{24,99}`),
		token("stripe-webhook-secret", "Stripe webhook signing secret", med, "Stripe", "whsec_", `[A-Za-z0-9+/]{32,}`),
		{
			ID: "square-access-token", Title: "Square access token", Severity: crit, Category: "Square",
			Keywords: []string{"eaaa", "sq0atp-"},
			Regex:    `\b(?P<secret>EAAA[A-Za-z0-9_\-]{60}|sq0atp-[0-9A-Za-z_\-]{22})` + end,
		},
		token("square-oauth-secret", "Square OAuth secret", crit, "Square", "sq0csp-", `[0-9A-Za-z_\-]{43}`),
		{
			ID: "braintree-access-token", Title: "PayPal Braintree production access token", Severity: crit, Category: "PayPal",
			Keywords: []string{"access_token$production$"},
			Regex:    `(?P<secret>access_token\$production\$[0-9a-z]{16}\$` + hex("32") + `)\b`,
		},
		token("shopify-access-token", "Shopify access token", high, "Shopify", "shpat_", `[a-fA-F0-9]{32}`),
		token("shopify-shared-secret", "Shopify shared secret", high, "Shopify", "shpss_", `[a-fA-F0-9]{32}`),
		token("shopify-custom-app-token", "Shopify custom app access token", high, "Shopify", "shpca_", `[a-fA-F0-9]{32}`),
		token("shopify-private-app-token", "Shopify private app access token", high, "Shopify", "shppa_", `[a-fA-F0-9]{32}`),
		token("flutterwave-secret-key", "Flutterwave secret key", high, "Flutterwave", "FLWSECK-", hex("32")+`-X`),
		token("easypost-api-key", "EasyPost production API key", high, "EasyPost", "EZAK", `[A-Za-z0-9]{54}`),
		token("shippo-live-token", "Shippo live API token", high, "Shippo", "shippo_live_", hex("40")),

		// --- Observability ---
		token("newrelic-user-api-key", "New Relic user API key", high, "NewRelic", "NRAK-", `[A-Z0-9]{27}`),
		token("newrelic-insert-key", "New Relic insert key", high, "NewRelic", "NRII-", `[A-Za-z0-9_\-]{32}`),
		{
			ID: "newrelic-license-key", Title: "New Relic license key", Severity: high, Category: "NewRelic",
			Keywords: []string{"nral"},
			Regex:    `\b(?P<secret>` + hex("36") + `NRAL)\b`,
		},
		token("newrelic-browser-key", "New Relic browser API key", med, "NewRelic", "NRJS-", hex("19")),
		named("datadog-api-key", "Datadog API key", high, "Datadog", []string{"datadog", "dd_api", "dd-api", "ddapi"},
			`(?:datadog|dd)[_\-]?api[_\-]?key`, hex("32")),
		named("datadog-app-key", "Datadog application key", high, "Datadog", []string{"datadog", "dd_app", "dd-app", "ddapp"},
			`(?:datadog|dd)[_\-]?app(?:lication)?[_\-]?key`, hex("40")),
		{
			ID: "sentry-dsn", Title: "Sentry DSN", Severity: low, Category: "Sentry",
			Keywords: []string{"sentry"},
			Regex:    `https?://(?P<secret>` + hex("32") + `)(?::` + hex("32") + `)?@[A-Za-z0-9.\-]*sentry[A-Za-z0-9.\-]*(?::\d+)?/\d+`,
		},
		token("sentry-org-token", "Sentry organization auth token", high, "Sentry", "sntrys_", `eyJ[A-Za-z0-9+/=_\-]{50,}`),
		token("sentry-user-token", "Sentry user auth token", high, "Sentry", "sntryu_", hex("64")),
		token("grafana-api-key", "Grafana API key", high, "Grafana", "eyJrIjoi", `[A-Za-z0-9+/=]{60,}`),
		token("grafana-cloud-token", "Grafana Cloud API token", high, "Grafana", "glc_", `[A-Za-z0-9+/]{32,}={0,2}`),
		token("grafana-service-account-token", "Grafana service account token", high, "Grafana", "glsa_", `[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}`),
		token("dynatrace-api-token", "Dynatrace API token", high, "Dynatrace", "dt0c01.", `[A-Z0-9]{24}\.[A-Z0-9]{64}`),

		// --- AI and data platforms ---
		{
			ID: "openai-api-key", Title: "OpenAI API key", Severity: crit, Category: "OpenAI",
			Keywords: []string{"t3blbkfj"},
			Regex:    `\b(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,})` + end,
		},
		token("openai-project-key", "OpenAI project API key", crit, "OpenAI", "sk-proj-", `[A-Za-z0-9_\-]{40,}`),
		token("anthropic-api-key", "Anthropic API key", crit, "Anthropic", "sk-ant-", `(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{80,120}`),
		{
			ID: "huggingface-token", Title: "Hugging Face access token", Severity: high, Category: "HuggingFace",
			Keywords: []string{"hf_", "api_org_"},
			Regex:    `\b(?P<secret>(?:hf_|api_org_)[A-Za-z]{34})\b`,
		},
		token("replicate-api-token", "Replicate API token", high, "Replicate", "r8_", `[A-Za-z0-9]{37}`),
		token("groq-api-key", "Groq API key", high, "Groq", "gsk_", `[A-Za-z0-9]{52}`),
		token("perplexity-api-key", "Perplexity API key", high, "Perplexity", "pplx-", `[A-Za-z0-9]{48}`),
		token("prefect-api-key", "Prefect API key", high, "Prefect", "pnu_", `[A-Za-z0-9]{36}`),
		token("mapbox-secret-token", "Mapbox secret access token", high, "Mapbox", "sk.eyJ1Ijoi", `[A-Za-z0-9_\-.]+\.[A-Za-z0-9_\-]{20,}`),
		token("facebook-access-token", "Facebook access token", high, "Facebook", "EAACEdEose0cBA", `[0-9A-Za-z]{20,}`),

		// --- Keys and key files ---
		pem("rsa-private-key", "RSA private key", high, "RSA PRIVATE KEY"),
		pem("ec-private-key", "EC private key", high, "EC PRIVATE KEY"),
		pem("dsa-private-key", "DSA private key", high, "DSA PRIVATE KEY"),
		pem("pkcs8-private-key", "Private key (PKCS #8)", high, "PRIVATE KEY"),
		pem("encrypted-private-key", "Encrypted private key (PKCS #8)", med, "ENCRYPTED PRIVATE KEY"),
		pem("openssh-private-key", "OpenSSH private key", high, "OPENSSH PRIVATE KEY"),
		pem("pgp-private-key-block", "PGP private key block", high, "PGP PRIVATE KEY BLOCK"),
		{
			ID: "putty-private-key", Title: "PuTTY private key", Severity: high, Category: "PrivateKey",
			Keywords:  []string{"putty-user-key-file-"},
			Regex:     `(?s)PuTTY-User-Key-File-[23]: [^\r\n]+.{0,1000}?Private-Lines: \d+\s+(?P<secret>[A-Za-z0-9+/=]{20,}(?:\s+[A-Za-z0-9+/=]{4,})*)`,
			Multiline: true,
		},
		token("age-secret-key", "age secret key", high, "PrivateKey", "AGE-SECRET-KEY-1", `[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`),
		{
			ID: "kubeconfig-client-key", Title: "Kubernetes client key in a kubeconfig", Severity: high, Category: "Kubernetes",
			Keywords: []string{"client-key-data"},
			Regex:    `client-key-data:\s*["']?(?P<secret>[A-Za-z0-9+/]{100,}={0,2})`,
		},
		{
			ID: "jwt", Title: "JSON Web Token", Severity: med, Category: "JWT",
			Keywords: []string{"eyj"},
			Regex:    `\b(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})` + end,
			Allow: []Allow{{
				Description: "the sample token of jwt.io and countless tutorials (sub 1234567890, John Doe)",
				Secret:      `\.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi`,
			}},
		},

		// --- Credential files ---
		{
			ID: "git-credentials", Title: "Password or token in .git-credentials", Severity: high, Category: "Git",
			Keywords: []string{"://"},
			Paths:    []string{`(?:^|/)\.git-credentials$`, `(?:^|/)git/credentials$`},
			Regex:    `(?m)^[ \t]*[a-z][a-z0-9+.\-]*://[^\s:@/]+:(?P<secret>[^\s@]+)@`,
		},
		{
			ID: "netrc-password", Title: "Password in .netrc", Severity: high, Category: "Netrc",
			Keywords: []string{"password"},
			Paths:    []string{`(?:^|/)[._]netrc$`},
			Regex:    `\bpassword\s+(?P<secret>\S+)`,
		},
		{
			ID: "htpasswd-hash", Title: "Password hash in an htpasswd file", Severity: med, Category: "PasswordHash",
			Paths: []string{`(?:^|/)\.?htpasswd[^/]*$`},
			Regex: `(?m)^[^:\s#]+:(?P<secret>\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}|\{SHA\}[A-Za-z0-9+/]{27}=|\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\$[56]\$[^\s:$]{0,16}\$[./A-Za-z0-9]{43,86})`,
		},
		{
			ID: "shadow-password-hash", Title: "Password hash in /etc/shadow", Severity: med, Category: "PasswordHash",
			Paths: []string{`^/etc/shadow-?$`},
			Regex: `(?m)^[^:\n#]+:(?P<secret>\$(?:1|2[abxy]|5|6|7|y|gy|sha1|md5)\$[^:\n]{8,}):`,
		},
		{
			ID: "debconf-password", Title: "Preseeded password in the debconf password database", Severity: med, Category: "Debian",
			Keywords: []string{"value:"},
			Paths:    []string{`^/var/cache/debconf/passwords\.dat$`},
			Regex:    `(?m)^Value:[ \t]*(?P<secret>\S[^\r\n]*)`,
		},
		{
			ID: "wordpress-db-password", Title: "WordPress database password", Severity: high, Category: "Database",
			Keywords: []string{"db_password"},
			Regex:    `define\(\s*['"]DB_PASSWORD['"]\s*,\s*['"](?P<secret>[^'"]{4,})['"]`,
		},

		// --- Connection URLs ---
		dburl("postgres-url-password", "PostgreSQL connection URL with a password", `postgres|postgresql`, []string{"postgres"}),
		dburl("mysql-url-password", "MySQL/MariaDB connection URL with a password", `mysql|mysqlx|mariadb`, []string{"mysql://", "mysqlx://", "mysql+", "mariadb://", "mariadb+"}),
		dburl("mongodb-url-password", "MongoDB connection URL with a password", `mongodb|mongodb\+srv`, []string{"mongodb://", "mongodb+srv://"}),
		dburl("redis-url-password", "Redis connection URL with a password", `redis|rediss`, []string{"redis://", "rediss://"}),
		dburl("amqp-url-password", "AMQP (RabbitMQ) connection URL with a password", `amqp|amqps`, []string{"amqp://", "amqps://"}),
		dburl("mssql-url-password", "SQL Server connection URL with a password", `sqlserver|mssql`, []string{"sqlserver://", "mssql://", "mssql+"}),
		dburl("url-credentials", "Password in a URL", `https?|ftps?|sftp|ssh|git|svn|ldaps?|smtps?|imaps?`, []string{"http://", "https://", "ftp://", "ftps://", "sftp://", "ssh://", "git://", "svn://", "ldap://", "ldaps://", "smtp://", "smtps://", "imap://", "imaps://"}),

		// --- Passwords on command lines (Dockerfile RUN steps, scripts) ---
		{
			ID: "curl-user-password", Title: "Password passed to curl -u", Severity: high, Category: "generic",
			Keywords: []string{"curl"},
			Regex:    `\bcurl\b[^\n]*?\s(?:-u|--user)[ =]?["']?[^\s:"']+:(?P<secret>[^\s"']{4,})`,
			Generic:  true,
		},
		{
			ID: "registry-login-password", Title: "Password passed to a registry login command", Severity: high, Category: "generic",
			Keywords: []string{"login"},
			Regex:    `\b(?:docker|podman|buildah|skopeo|nerdctl|helm registry|oras)\s+login\b[^\n]*?\s(?:-p|--password)(?:\s+|=)["']?(?P<secret>[^\s"']{4,})`,
			Generic:  true,
		},
		{
			ID: "mysql-cli-password", Title: "Password passed to a MySQL client with -p", Severity: high, Category: "generic",
			Keywords: []string{"mysql", "mariadb"},
			Regex:    `\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\n]*?\s-p(?P<secret>[^\s"'\-][^\s"']{3,})`,
			Generic:  true,
		},
		{
			ID: "sshpass-password", Title: "Password passed to sshpass -p", Severity: high, Category: "generic",
			Keywords: []string{"sshpass"},
			Regex:    `\bsshpass\s+-p\s*["']?(?P<secret>[^\s"']{3,})`,
			Generic:  true,
		},
		{
			ID: "openssl-pass-argument", Title: "Password passed to openssl as pass:", Severity: med, Category: "generic",
			Keywords: []string{"pass:"},
			Regex:    `-pass(?:in|out)?\s+["']?pass:(?P<secret>[^\s"']{4,})`,
			Generic:  true,
		},
		{
			ID: "keytool-password", Title: "Password passed to keytool", Severity: med, Category: "generic",
			Keywords: []string{"pass "},
			Regex:    `\s-(?:store|key|srcstore|deststore|srckey|destkey)pass\s+["']?(?P<secret>[^\s"']{4,})`,
			Generic:  true,
		},
		{
			ID: "cli-password-flag", Title: "Password passed as a --password option", Severity: med, Category: "generic",
			Keywords: []string{"--pass"},
			Regex:    `(?:^|\s)--(?:password|passwd|pass)(?:=|\s+)["']?(?P<secret>[^\s"']{4,})`,
			Generic:  true,
		},

		// --- HTTP authorization headers ---
		{
			ID: "authorization-bearer", Title: "Bearer token in an Authorization header", Severity: med, Category: "generic",
			Keywords: []string{"bearer"},
			Regex:    `(?i)\bauthorization["']?\s*[:=]?\s*["']?bearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{20,}=*)`,
			Entropy:  3.5,
			Generic:  true,
		},
		{
			ID: "authorization-basic", Title: "Basic credentials in an Authorization header", Severity: med, Category: "generic",
			Keywords: []string{"basic"},
			Regex:    `(?i)\bauthorization["']?\s*[:=]?\s*["']?basic\s+(?P<secret>[A-Za-z0-9+/]{12,}={0,2})`,
			Entropy:  3.0,
			Generic:  true,
			Allow:    []Allow{rfc6749},
		},

		// --- Generic assignments, last: any rule above wins over these ---
		generic("generic-password", "Password assigned in code or configuration", med,
			[]string{"password", "passwd", "passphrase", "pwd"}, `(?:password|passwd|passphrase|pwd)`, "8", 3.0),
		generic("generic-secret", "Secret assigned in code or configuration", med,
			[]string{"secret", "private_key", "private-key", "privatekey", "encryption_key", "encryption-key", "encryptionkey", "signing_key", "signing-key", "signingkey", "master_key", "master-key", "masterkey"},
			`(?:secret|private[_\-]?key|encryption[_\-]?key|signing[_\-]?key|master[_\-]?key)`, "16", 3.5),
		generic("generic-api-key", "API key assigned in code or configuration", med,
			[]string{"api_key", "api-key", "apikey", "api_secret", "api-secret", "apisecret", "access_key", "access-key", "accesskey", "app_key", "app-key", "appkey", "client_key", "client-key", "clientkey"},
			`(?:api[_\-]?key|api[_\-]?secret|access[_\-]?key|app[_\-]?key|client[_\-]?key)`, "16", 3.5),
		allowing(generic("generic-token", "Token assigned in code or configuration", med,
			[]string{"token", "auth_key", "auth-key", "authkey"}, `(?:token|auth[_\-]?key)`, "20", 3.5), rfc6749),
	}
	return rules
}
