{{/*
The release's base name: the release name, or "wharf" inside it when the
release is called something else ("prod" → "prod-wharf").
*/}}
{{- define "wharf.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wharf.operator.name" -}}{{ include "wharf.fullname" . }}-operator{{- end -}}
{{- define "wharf.server.name" -}}{{ include "wharf.fullname" . }}-server{{- end -}}
{{- define "wharf.results.claim" -}}
{{- .Values.results.persistence.existingClaim | default (printf "%s-results" (include "wharf.fullname" .)) -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "wharf.labels" -}}
app.kubernetes.io/name: wharf
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component ("operator" or "server"); call with (list . "operator"). */}}
{{- define "wharf.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: wharf
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* The image reference: by digest when one is given, else by tag. */}}
{{- define "wharf.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* API replicas: as set, else 2 with S3 and 1 with a volume. */}}
{{- define "wharf.server.replicas" -}}
{{- if kindIs "invalid" .Values.server.replicas -}}
{{- if .Values.results.s3.url -}}2{{- else -}}1{{- end -}}
{{- else -}}
{{- .Values.server.replicas -}}
{{- end -}}
{{- end -}}

{{/*
Refuses values that would lose or leak data. Included by every template that
depends on them, so `helm template` and `helm install` fail alike.
*/}}
{{- define "wharf.validate" -}}
{{- $replicas := include "wharf.server.replicas" . | int -}}
{{- $s3 := .Values.results.s3 -}}
{{- if and (gt $replicas 1) (not $s3.url) -}}
{{- fail (printf "server.replicas is %d but results.s3.url is empty: each replica would keep its own copy of Task results and lose the others'. Set results.s3.url and results.s3.credentialsSecret, or server.replicas=1 to keep results on a volume." $replicas) -}}
{{- end -}}
{{- if and $s3.url (not $s3.credentialsSecret) -}}
{{- fail "results.s3.url is set but results.s3.credentialsSecret is empty: name a Secret in the release namespace with the keys accessKeyId and secretAccessKey." -}}
{{- end -}}
{{- if and $s3.credentialsSecret (not $s3.url) -}}
{{- fail "results.s3.credentialsSecret is set but results.s3.url is empty: give the bucket as http(s)://host[:port]/bucket." -}}
{{- end -}}
{{- if and .Values.server.ingress.enabled (not .Values.server.ingress.host) -}}
{{- fail "server.ingress.enabled is true but server.ingress.host is empty: name the host the API is served on." -}}
{{- end -}}
{{- if and .Values.server.httpRoute.enabled (not .Values.server.httpRoute.parentRefs) -}}
{{- fail "server.httpRoute.enabled is true but server.httpRoute.parentRefs is empty: name the Gateway the route attaches to." -}}
{{- end -}}
{{- end -}}

{{/* The pod-level security context: the restricted Pod Security Standard. */}}
{{- define "wharf.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The container-level security context: no privileges, a read-only root. */}}
{{- define "wharf.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Scheduling fields of a component's values (operator or server). */}}
{{- define "wharf.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}
