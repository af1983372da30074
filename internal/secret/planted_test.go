package secret

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// plant is one file with one secret: text is inserted after a few filler
// lines and must be found by rule, on the first line of text.
type plant struct {
	rule   string
	path   string
	text   string
	secret string // the part that must never be printed whole
	at     int    // the line of text (from 0) the hit is reported on
	also   string // another rule expected on the same line
}

// plants returns one planted case (at least) for every built-in rule.
func plants(g *gen) []plant {
	var ps []plant
	add := func(rule, path, text, secret string) {
		ps = append(ps, plant{rule: rule, path: path, text: text, secret: secret})
	}
	// tok adds a case where the secret appears in a simple assignment.
	tok := func(rule, path, format, secret string) {
		add(rule, path, fmt.Sprintf(format, secret), secret)
	}
	env := "/app/.env"
	js := "/app/src/config.js"
	py := "/srv/app/settings.py"
	yml := "/etc/app/config.yaml"
	sh := "/usr/local/bin/deploy.sh"

	// Cloud.
	tok("aws-access-key-id", env, "AWS_ACCESS_KEY_ID=%s", "AKIA"+g.from(base32, 16))
	tok("aws-access-key-id", yml, "  key_id: %s  # temporary", "ASIA"+g.from(base32, 16))
	tok("aws-secret-access-key", "/root/.aws/credentials", "aws_secret_access_key = %s", g.from(b64Chars, 40))
	tok("aws-secret-access-key", "/app/creds.json", `  "SecretAccessKey": "%s",`, g.from(b64Chars, 40))
	{
		id, key := "AKIA"+g.from(base32, 16), g.from(b64Chars, 40)
		ps = append(ps, plant{rule: "aws-credentials-pair", also: "aws-access-key-id", path: "/home/dev/credentials.csv",
			text: "User name,Access key ID,Secret access key\ndeploy," + id + "," + key, secret: key, at: 1})
	}
	tok("aws-session-token", "/root/.aws/credentials", "aws_session_token = %s", "IQoJb3JpZ2luX2VjE"+g.from(b64Chars, 300))
	tok("aws-mws-auth-token", yml, "mws_auth_token: %s", "amzn.mws."+g.uuid())
	tok("aws-bedrock-api-key", env, "BEDROCK_API_KEY=%s", "ABSK"+g.from(b64Chars, 130))
	{
		key := "-----BEGIN PRIVATE KEY-----\\n" + g.from(b64Chars, 64) + "\\n" + g.from(b64Chars, 64) + "\\n-----END PRIVATE KEY-----\\n"
		text := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \"private_key_id\": \"" + g.hex(40) +
			"\",\n  \"private_key\": \"" + key + "\",\n  \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com\"\n}"
		ps = append(ps, plant{rule: "gcp-service-account-key", path: "/app/gcp-sa.json", text: text, secret: key, at: 1})
	}
	tok("gcp-api-key", js, `export const mapsKey = "%s";`, "AIza"+g.from(urlSafe, 35))
	tok("gcp-oauth-client-secret", "/app/client_secret.json", `{"installed":{"client_secret":"%s"}}`, "GOCSPX-"+g.from(urlSafe, 28))
	tok("gcp-oauth-access-token", sh, `curl -H "X-Goog-Token: %s" https://storage.googleapis.com/`, "ya29."+g.from(urlSafe, 120))
	tok("azure-storage-account-key", "/app/appsettings.json",
		`"Storage": "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=%s;EndpointSuffix=core.windows.net"`, g.from(b64Chars, 86)+"==")
	tok("azure-sas-token", sh, "az_url='https://acmeprod.blob.core.windows.net/backups?sv=2021-06-08&ss=b&srt=co&sp=rl&se=2031-01-01T00:00:00Z&sig=%s'", g.from(alnum, 44)+"%3D")
	tok("azure-ad-client-secret", env, "AZURE_CLIENT_SECRET=%s", g.from(alnum, 3)+"8Q~"+g.from(alnum+"_~.-", 34))
	tok("alibaba-access-key-id", yml, "access_key_id: %s", "LTAI"+g.alnum(20))
	tok("cloudflare-api-token", env, "CLOUDFLARE_API_TOKEN=%s", g.from(urlSafe, 40))
	tok("cloudflare-origin-ca-key", env, "CF_ORIGIN_CA=%s", "v1.0-"+g.hex(24)+"-"+g.hex(146))
	tok("digitalocean-pat", env, "DIGITALOCEAN_TOKEN=%s", "dop_v1_"+g.hex(64))
	tok("digitalocean-oauth-token", env, "DO_OAUTH=%s", "doo_v1_"+g.hex(64))
	tok("digitalocean-refresh-token", env, "DO_REFRESH=%s", "dor_v1_"+g.hex(64))
	tok("heroku-api-key", env, "HEROKU_API_KEY=%s", g.uuid())
	tok("heroku-api-key-v2", env, "HEROKU_KEY=%s", "HRKU-AA"+g.from(urlSafe, 58))
	tok("terraform-cloud-token", "/root/.terraform.d/credentials.tfrc.json", `{"credentials":{"app.terraform.io":{"token":"%s"}}}`, g.alnum(14)+".atlasv1."+g.from(urlSafe, 67))
	tok("vault-service-token", env, "VAULT_TOKEN=%s", "hvs."+g.from(urlSafe, 95))
	tok("vault-batch-token", env, "VAULT_BATCH=%s", "hvb."+g.from(urlSafe, 140))
	tok("drydock-api-token", env, "DRYDOCK_TOKEN=%s", "ddk_"+g.from(urlSafe, 43))
	tok("flyio-access-token", env, "FLY_API_TOKEN=%s", "fo1_"+g.from(urlSafe, 43))
	tok("supabase-access-token", env, "SUPABASE_ACCESS=%s", "sbp_"+g.hex(40))
	tok("planetscale-token", env, "PLANETSCALE_SERVICE=%s", "pscale_tkn_"+g.from(urlSafe, 43))
	tok("databricks-token", env, "DATABRICKS_HOST_AUTH=%s", "dapi"+g.hex(32))

	// Source hosting and CI.
	tok("github-pat", sh, "git clone https://x-access:%s@github.com/acme/app.git", "ghp_"+g.alnum(36))
	tok("github-oauth-token", js, `const gh = "%s";`, "gho_"+g.alnum(36))
	tok("github-app-user-token", js, `const gh = "%s";`, "ghu_"+g.alnum(36))
	tok("github-app-installation-token", js, `const gh = "%s";`, "ghs_"+g.alnum(36))
	tok("github-refresh-token", js, `const gh = "%s";`, "ghr_"+g.alnum(76))
	tok("github-fine-grained-pat", env, "GH_PAT=%s", "github_pat_"+g.alnum(22)+"_"+g.alnum(59))
	tok("gitlab-pat", "/root/.gitlab-token", "%s", "glpat-"+g.from(urlSafe, 20))
	tok("gitlab-deploy-token", env, "GL_DEPLOY=%s", "gldt-"+g.from(urlSafe, 20))
	tok("gitlab-runner-token", "/etc/gitlab-runner/config.toml", `  token = "%s"`, "glrt-"+g.from(urlSafe, 20))
	tok("gitlab-runner-registration-token", sh, "gitlab-runner register --registration-token %s", "GR1348941"+g.from(urlSafe, 20))
	tok("gitlab-pipeline-trigger-token", sh, "curl -X POST -F token=%s -F ref=main https://gitlab.internal/api/v4/projects/7/trigger/pipeline", "glptt-"+g.hex(40))
	tok("gitlab-cicd-job-token", env, "JOB=%s", "glcbt-"+g.alnum(2)+"_"+g.from(urlSafe, 20))
	tok("gitlab-feed-token", env, "FEED=%s", "glft-"+g.from(urlSafe, 20))
	tok("gitlab-oauth-app-secret", env, "GL_OAUTH=%s", "gloas-"+g.from(urlSafe, 64))
	tok("gitlab-scim-token", env, "GL_SCIM=%s", "glsoat-"+g.from(urlSafe, 20))
	tok("gitlab-incoming-mail-token", env, "GL_MAIL=%s", "glimt-"+g.from(urlSafe, 25))
	tok("gitlab-agent-token", env, "GL_AGENT=%s", "glagent-"+g.from(urlSafe, 50))
	tok("bitbucket-app-password", env, "BB_APP=%s", "ATBB"+g.alnum(32))
	tok("atlassian-api-token", env, "JIRA_API=%s", "ATATT3"+g.from(urlSafe, 186))
	tok("circleci-pat", env, "CIRCLE=%s", "CCIPAT_"+g.alnum(22)+"_"+g.hex(40))
	tok("buildkite-token", env, "BUILDKITE=%s", "bkua_"+g.hex(40))
	tok("sonarqube-token", "/app/sonar-project.properties", "sonar.login=%s", "sqp_"+g.hex(40))
	tok("postman-api-key", env, "POSTMAN=%s", "PMAK-"+g.hex(24)+"-"+g.hex(34))
	tok("pulumi-access-token", env, "PULUMI_ACCESS=%s", "pul-"+g.hex(40))
	tok("doppler-token", env, "DOPPLER=%s", "dp.st."+g.alnum(43))
	tok("linear-api-key", env, "LINEAR=%s", "lin_api_"+g.alnum(40))
	tok("notion-integration-token", env, "NOTION=%s", "ntn_"+g.from(digits, 11)+g.alnum(35))
	tok("notion-integration-token", js, `const notion = new Client({ auth: "%s" });`, "secret_"+g.alnum(43))

	// Package registries.
	tok("npm-access-token", "/app/.npmrc", "//registry.npmjs.org/:_authToken=%s", "npm_"+g.alnum(36))
	tok("npmrc-auth-token", "/root/.npmrc", "//npm.internal.corp/:_authToken=%s", g.uuid())
	tok("npmrc-auth", "/home/node/.npmrc", "_auth=%s", base64.StdEncoding.EncodeToString([]byte("ci:"+g.password(20))))
	tok("pypi-upload-token", "/root/.pypirc", "password = %s", "pypi-AgEIcHlwaS5vcmc"+g.from(urlSafe, 150))
	add("pypirc-password", "/root/.pypirc", "password: "+"Zq8"+g.password(15)+"\nrepository = https://upload.internal/", "")
	tok("rubygems-api-key", "/root/.gem/credentials", ":rubygems_api_key: %s", "rubygems_"+g.hex(48))
	tok("nuget-api-key", sh, "dotnet nuget push app.nupkg --api-key %s", "oy2"+g.from(lowerNum, 43))
	tok("clojars-token", env, "CLOJARS=%s", "CLOJARS_"+g.from(lowerNum, 60))
	tok("dockerhub-pat", sh, "echo %s | docker login -u acmebot --password-stdin", "dckr_pat_"+g.from(urlSafe, 27))
	{
		auth := base64.StdEncoding.EncodeToString([]byte("acmebot:" + g.password(24)))
		ps = append(ps, plant{rule: "docker-config-auth", path: "/root/.docker/config.json", secret: auth, at: 3,
			text: "{\n  \"auths\": {\n    \"registry.internal\": {\n      \"auth\": \"" + auth + "\"\n    }\n  }\n}"})
	}
	tok("jfrog-api-key", env, "ARTIFACTORY=%s", "AKCp"+g.alnum(69))
	tok("jfrog-identity-token", env, "JF_IDENTITY=%s", "cmVmdGtuOjAxOj"+g.alnum(60))

	// Messaging.
	tok("slack-bot-token", py, `SLACK_BOT = "%s"`, "xoxb-"+g.from(digits, 12)+"-"+g.from(digits, 13)+"-"+g.alnum(24))
	tok("slack-user-token", py, `SLACK_USER = "%s"`, "xoxp-"+g.from(digits, 12)+"-"+g.from(digits, 12)+"-"+g.from(digits, 13)+"-"+g.alnum(32))
	tok("slack-app-token", py, `SLACK_APP = "%s"`, "xapp-1-"+g.from(upperNum, 11)+"-"+g.from(digits, 13)+"-"+g.hex(64))
	tok("slack-legacy-token", py, `SLACK_LEGACY = "%s"`, "xoxs-"+g.from(digits, 10)+"-"+g.alnum(24))
	tok("slack-webhook-url", py, `WEBHOOK = "https://hooks.slack.com/services/%s"`, "T"+g.from(upperNum, 10)+"/B"+g.from(upperNum, 10)+"/"+g.alnum(24))
	tok("microsoft-teams-webhook-url", py, `TEAMS = "https://acme.webhook.office.com/webhookb2/`+g.uuid()+"@"+g.uuid()+`/IncomingWebhook/%s/`+g.uuid()+`"`, g.alnum(32))
	tok("discord-bot-token", py, `DISCORD_TOKEN = "%s"`, "M"+g.from(urlSafe, 25)+"."+g.from(urlSafe, 6)+"."+g.from(urlSafe, 38))
	tok("discord-webhook-url", py, `HOOK = "https://discord.com/api/webhooks/`+g.from(digits, 18)+`/%s"`, g.from(urlSafe, 68))
	tok("telegram-bot-token", env, "BOT_TOKEN=%s", g.from(digits, 10)+":AA"+g.from(urlSafe, 33))
	tok("twilio-api-key", env, "TWILIO_API_KEY=%s", "SK"+g.hex(32))
	tok("twilio-account-sid", env, "TWILIO_ACCOUNT_SID=%s", "AC"+g.hex(32))
	tok("twilio-auth-token", env, "TWILIO_AUTH_TOKEN=%s", g.hex(32))
	tok("sendgrid-api-key", py, `SENDGRID = "%s"`, "SG."+g.from(urlSafe, 22)+"."+g.from(urlSafe, 43))
	tok("mailgun-api-key", py, `MG = "%s"`, "key-"+g.hex(32))
	tok("mailgun-signing-key", env, "MAILGUN_SIGNING=%s", g.hex(32)+"-"+g.hex(8)+"-"+g.hex(8))
	tok("mailchimp-api-key", py, `MC = "%s"`, g.hex(32)+"-us21")

	// Payments.
	tok("stripe-secret-key", js, `const stripe = require("stripe")("%s");`, "sk_live_"+g.alnum(99))
	tok("stripe-restricted-key", js, `const rk = "%s";`, "rk_live_"+g.alnum(99))
	tok("stripe-webhook-secret", env, "STRIPE_WEBHOOK=%s", "whsec_"+g.from(b64Chars, 32))
	tok("square-access-token", env, "SQUARE=%s", "EAAA"+g.from(urlSafe, 60))
	tok("square-oauth-secret", env, "SQUARE_OAUTH=%s", "sq0csp-"+g.from(urlSafe, 43))
	tok("braintree-access-token", env, "BRAINTREE=%s", "access_token$production$"+g.from(lowerNum, 16)+"$"+g.hex(32))
	tok("shopify-access-token", env, "SHOPIFY=%s", "shpat_"+g.hex(32))
	tok("shopify-shared-secret", env, "SHOPIFY_SS=%s", "shpss_"+g.hex(32))
	tok("shopify-custom-app-token", env, "SHOPIFY_CA=%s", "shpca_"+g.hex(32))
	tok("shopify-private-app-token", env, "SHOPIFY_PA=%s", "shppa_"+g.hex(32))
	tok("flutterwave-secret-key", env, "FLW=%s", "FLWSECK-"+g.hex(32)+"-X")
	tok("easypost-api-key", env, "EASYPOST=%s", "EZAK"+g.alnum(54))
	tok("shippo-live-token", env, "SHIPPO=%s", "shippo_live_"+g.hex(40))

	// Observability.
	tok("newrelic-user-api-key", env, "NEW_RELIC_API=%s", "NRAK-"+g.from(upperNum, 27))
	tok("newrelic-insert-key", env, "NEW_RELIC_INSERT=%s", "NRII-"+g.from(urlSafe, 32))
	tok("newrelic-license-key", "/etc/newrelic-infra.yml", "license_key: %s", g.hex(36)+"NRAL")
	tok("newrelic-browser-key", js, `window.NREUM.loader_config = { key: "%s" };`, "NRJS-"+g.hex(19))
	tok("datadog-api-key", env, "DD_API_KEY=%s", g.hex(32))
	tok("datadog-app-key", env, "DD_APP_KEY=%s", g.hex(40))
	tok("sentry-dsn", py, `sentry_sdk.init(dsn="https://%s@o123456.ingest.sentry.io/4504")`, g.hex(32))
	tok("sentry-org-token", env, "SENTRY_AUTH=%s", "sntrys_eyJ"+g.from(urlSafe, 80))
	tok("sentry-user-token", env, "SENTRY_USER=%s", "sntryu_"+g.hex(64))
	tok("grafana-api-key", env, "GRAFANA=%s", "eyJrIjoi"+g.from(alnum, 80)+"=")
	tok("grafana-cloud-token", env, "GRAFANA_CLOUD=%s", "glc_"+g.from(b64Chars, 80)+"==")
	tok("grafana-service-account-token", env, "GRAFANA_SA=%s", "glsa_"+g.alnum(32)+"_"+g.hex(8))
	tok("dynatrace-api-token", env, "DT=%s", "dt0c01."+g.from(upperNum, 24)+"."+g.from(upperNum, 64))

	// AI and data.
	tok("openai-api-key", py, `openai.api_key = "%s"`, "sk-proj-"+g.from(urlSafe, 74)+"T3BlbkFJ"+g.from(urlSafe, 74))
	tok("openai-api-key", py, `client = OpenAI(api_key="%s")`, "sk-"+g.alnum(20)+"T3BlbkFJ"+g.alnum(20))
	tok("openai-project-key", env, "OPENAI_API_KEY=%s", "sk-proj-"+g.from(urlSafe, 156))
	tok("anthropic-api-key", env, "ANTHROPIC_API_KEY=%s", "sk-ant-api03-"+g.from(urlSafe, 93)+"AA")
	tok("huggingface-token", py, `login(token="%s")`, "hf_"+g.from(letters, 34))
	tok("replicate-api-token", env, "REPLICATE=%s", "r8_"+g.alnum(37))
	tok("groq-api-key", env, "GROQ=%s", "gsk_"+g.alnum(52))
	tok("perplexity-api-key", env, "PPLX=%s", "pplx-"+g.alnum(48))
	tok("prefect-api-key", env, "PREFECT=%s", "pnu_"+g.alnum(36))
	tok("mapbox-secret-token", js, `mapboxgl.accessToken = "%s";`, "sk.eyJ1Ijoi"+g.from(alnum, 30)+"."+g.from(urlSafe, 22))
	tok("facebook-access-token", py, `FB = "%s"`, "EAACEdEose0cBA"+g.alnum(120))

	// Keys.
	for _, k := range []struct{ rule, label string }{
		{"rsa-private-key", "RSA PRIVATE KEY"}, {"ec-private-key", "EC PRIVATE KEY"}, {"dsa-private-key", "DSA PRIVATE KEY"},
		{"pkcs8-private-key", "PRIVATE KEY"}, {"encrypted-private-key", "ENCRYPTED PRIVATE KEY"},
		{"openssh-private-key", "OPENSSH PRIVATE KEY"},
	} {
		block, body := g.pemBlock(k.label, 12)
		add(k.rule, "/root/.ssh/id_"+strings.ToLower(strings.Fields(k.label)[0]), block, body)
	}
	{
		block, body := g.pemBlock("RSA PRIVATE KEY", 12)
		block = strings.Replace(block, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"+strings.ToUpper(g.hex(32))+"\n\n", 1)
		add("rsa-private-key", "/etc/ssl/private/legacy.key", block, body)
	}
	{
		_, body := g.pemBlock("X", 8)
		json := `{"tls_key": "-----BEGIN EC PRIVATE KEY-----\n` + strings.ReplaceAll(body, "\n", `\n`) + `\n-----END EC PRIVATE KEY-----\n"}`
		add("ec-private-key", "/app/tls.json", json, strings.ReplaceAll(body, "\n", `\n`))
	}
	{
		block, body := g.pemBlock("PGP PRIVATE KEY BLOCK", 20)
		block = strings.Replace(block, "-----\n", "-----\nVersion: GnuPG v2\n\n", 1)
		add("pgp-private-key-block", "/root/.gnupg/private.asc", block, body)
	}
	{
		priv := g.from(b64Chars, 64) + "\n" + g.from(b64Chars, 64) + "\n" + g.from(b64Chars, 24)
		text := "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n" +
			g.from(b64Chars, 64) + "\n" + g.from(b64Chars, 20) + "\nPrivate-Lines: 3\n" + priv + "\nPrivate-MAC: " + g.hex(40)
		add("putty-private-key", "/home/dev/deploy.ppk", text, priv)
	}
	tok("age-secret-key", "/root/.config/sops/age/keys.txt", "%s", "AGE-SECRET-KEY-1"+g.from(bech32, 58))
	tok("kubeconfig-client-key", "/root/.kube/config", "    client-key-data: %s", g.b64bytes(900))
	tok("jwt", js, `const session = "%s";`, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ"+g.from(urlSafe, 80)+"."+g.from(urlSafe, 43))

	// Credential files.
	tok("git-credentials", "/root/.git-credentials", "https://deploy:%s@git.internal.corp", g.password(20))
	tok("netrc-password", "/root/.netrc", "machine artifacts.internal.corp login deploy password %s", g.password(20))
	tok("htpasswd-hash", "/etc/nginx/.htpasswd", "admin:%s", "$apr1$"+g.from(alnum, 8)+"$"+g.from(alnum+"./", 22))
	tok("shadow-password-hash", "/etc/shadow", "root:%s:19700:0:99999:7:::", "$6$"+g.from(alnum, 16)+"$"+g.from(alnum+"./", 86))
	add("debconf-password", "/var/cache/debconf/passwords.dat", "Value: "+"Pw9"+g.password(13)+"\nOwners: mysql-server-8.0", "")
	tok("wordpress-db-password", "/var/www/html/wp-config.php", "define( 'DB_PASSWORD', '%s' );", g.password(20))

	// Connection URLs.
	tok("postgres-url-password", env, "DATABASE_URL=postgres://app:%s@db.internal:5432/app", g.password(20))
	tok("postgres-url-password", py, `engine = create_engine("postgresql+psycopg2://app:%s@db/app")`, g.password(20))
	tok("mysql-url-password", env, "MYSQL_URL=mysql://app:%s@mysql.internal/app", g.password(20))
	tok("mongodb-url-password", env, "MONGO_URL=mongodb+srv://app:%s@cluster0.abcde.mongodb.net/app", g.password(20))
	tok("redis-url-password", env, "REDIS_URL=redis://:%s@cache.internal:6379/0", g.password(20))
	tok("amqp-url-password", env, "BROKER_URL=amqps://worker:%s@mq.internal/vhost", g.password(20))
	tok("mssql-url-password", env, "MSSQL=sqlserver://sa:%s@sql.internal:1433?database=app", g.password(20))
	tok("url-credentials", "/etc/pip.conf", "index-url = https://ci:%s@pypi.internal.corp/simple", g.password(20))

	// Command lines.
	tok("curl-user-password", sh, "curl -fsSL -u deploy:%s https://artifacts.internal/app.tgz -o /tmp/app.tgz", g.password(20))
	tok("registry-login-password", sh, "docker login -u bot -p %s registry.internal", g.password(20))
	tok("mysql-cli-password", sh, "mysqldump -u root -p%s appdb > /backup/app.sql", g.password(20))
	tok("sshpass-password", sh, "sshpass -p '%s' ssh deploy@10.0.0.5 uptime", g.password(20))
	tok("openssl-pass-argument", sh, "openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:%s", g.password(20))
	tok("keytool-password", sh, "keytool -importkeystore -srckeystore a.p12 -destkeystore b.jks -deststorepass %s", g.password(20))
	tok("cli-password-flag", sh, "/opt/app/bin/migrate --host db --password=%s", g.password(20))
	tok("authorization-bearer", sh, `wget --header="Authorization: Bearer %s" https://api.internal/v1/export`, g.from(urlSafe, 40))
	tok("authorization-basic", "/etc/nginx/conf.d/upstream.conf", `proxy_set_header Authorization "Basic %s";`, base64.StdEncoding.EncodeToString([]byte("svc:"+g.password(20))))

	// Generic assignments.
	tok("generic-password", yml, `  password: "%s"`, g.password(16))
	tok("generic-password", "/opt/app/conf/app.properties", "spring.datasource.password=%s", g.password(16))
	tok("generic-secret", py, "SECRET_KEY = '%s'", g.password(50))
	tok("generic-api-key", yml, "api_key: %s", g.alnum(32))
	tok("generic-token", "/app/config.json", `  "refresh_token": "%s",`, g.from(urlSafe, 40))
	return ps
}

// filler is ordinary configuration text without secrets.
const filler = `# application configuration
log_level = info
listen = 0.0.0.0:8080
`

func TestPlantedSecrets(t *testing.T) {
	s := newScanner(t, nil)
	covered := map[string]bool{}
	for i, p := range plants(newGen(42)) {
		t.Run(fmt.Sprintf("%d-%s", i, p.rule), func(t *testing.T) {
			covered[p.rule] = true
			data := []byte(filler + p.text + "\n" + filler)
			wantLine := strings.Count(filler, "\n") + 1 + p.at
			hits := scanFile(t, s, p.path, data)
			secret := p.secret
			if secret == "" { // the value after "Value: " or "password: "
				_, secret, _ = strings.Cut(strings.SplitN(p.text, "\n", 2)[0], ": ")
			}
			var got []string
			for _, h := range hits {
				got = append(got, fmt.Sprintf("%s@%d", h.RuleID, h.Line))
				if strings.Contains(h.Match, secret) {
					t.Errorf("%s: Match holds the whole secret (%s)", h.RuleID, Redact(secret))
				}
				if len(secret) > 8 && strings.Contains(h.Match, secret[:len(secret)-4]) {
					t.Errorf("%s: Match holds most of the secret: %q", h.RuleID, Redact(h.Match))
				}
			}
			want := []string{fmt.Sprintf("%s@%d", p.rule, wantLine)}
			if p.also != "" {
				want = append([]string{fmt.Sprintf("%s@%d", p.also, wantLine)}, want...)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: hits (-want +got):\n%s", p.path, diff)
			}
			h := hits[len(hits)-1]
			if !strings.Contains(strings.Split(p.text, "\n")[p.at], secret[:min(len(secret), 8)]) {
				return // the secret starts on a later line than the match (PEM body)
			}
			wantMask := Redact(secret)
			if !strings.Contains(h.Match, wantMask) {
				t.Errorf("Match = %q, want it to contain %q", h.Match, wantMask)
			}
			if h.Title == "" || h.Severity == "" || h.Category == "" {
				t.Errorf("hit %+v lacks title, severity or category", h)
			}
		})
	}
	for _, r := range Builtin() {
		if !covered[r.ID] {
			t.Errorf("built-in rule %q has no planted case", r.ID)
		}
	}
}
