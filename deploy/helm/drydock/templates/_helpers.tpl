{{- define "drydock.labels" -}}
app.kubernetes.io/name: drydock
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "drydock.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "drydock.secretName" -}}
{{ .Values.secrets.name | default .Release.Name }}
{{- end }}

{{- define "drydock.tlsSecretName" -}}
{{ .Values.tls.secretName | default (printf "%s-tls" .Release.Name) }}
{{- end }}

{{- define "drydock.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "drydock.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{- define "drydock.env" -}}
- name: DRYDOCK_POSTGRES
  valueFrom:
    secretKeyRef:
      name: {{ include "drydock.secretName" . }}
      key: postgres
- name: DRYDOCK_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "drydock.secretName" . }}
      key: secret-key
- name: DOCKER_CONFIG
  value: /etc/drydock/registry
{{- end }}
