{{/* Names, labels and the per-service settings every template shares. */}}

{{- define "conveyor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "conveyor.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The five services in a fixed order, so every template ranges over them the same way. */}}
{{- define "conveyor.serviceNames" -}}
entities pipelines automation notifications reporting
{{- end -}}

{{/* Resource name of one service: <fullname>-<service>. Call with (dict "root" $ "name" $svc). */}}
{{- define "conveyor.svcFullname" -}}
{{- printf "%s-%s" (include "conveyor.fullname" .root | trunc 50 | trimSuffix "-") .name -}}
{{- end -}}

{{- define "conveyor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "conveyor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: conveyor
{{- end -}}

{{/* Selector labels of one service. Call with (dict "root" $ "name" $svc). */}}
{{- define "conveyor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "conveyor.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "conveyor.svcLabels" -}}
{{ include "conveyor.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* A service's values merged over `defaults`. Call with (dict "root" $ "name" $svc); returns YAML. */}}
{{- define "conveyor.svcValues" -}}
{{- $own := index .root.Values.services .name -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy $own)) -}}
{{- end -}}

{{- define "conveyor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "conveyor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "conveyor.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s/%s" $img.repository .name -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" $img.registry $repo -}}{{- end -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{/* Name of the shared ConfigMap and Secret (settings of all five services). */}}
{{- define "conveyor.sharedName" -}}
{{- printf "%s-shared" (include "conveyor.fullname" .) -}}
{{- end -}}

{{/*
The HS256 key when no JWKS URL and no existing Secret are given: the value, else the one an
earlier install stored, else a new random one. Memoised in .Values so every template that asks
during one render gets the same key.
*/}}
{{- define "conveyor.jwtSecret" -}}
{{- if .Values.auth.jwtSecret -}}
{{- .Values.auth.jwtSecret -}}
{{- else -}}
{{- if not (hasKey .Values.auth "_generated") -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "conveyor.sharedName" .) -}}
{{- $value := "" -}}
{{- if and $existing $existing.data (hasKey $existing.data "CONVEYOR_JWT_SECRET") -}}
{{- $value = index $existing.data "CONVEYOR_JWT_SECRET" | b64dec -}}
{{- else -}}
{{- $value = randAlphaNum 48 -}}
{{- end -}}
{{- $_ := set .Values.auth "_generated" $value -}}
{{- end -}}
{{- .Values.auth._generated -}}
{{- end -}}
{{- end -}}

{{/* Whether the chart's shared Secret holds the HS256 key (no JWKS, no existing Secret). */}}
{{- define "conveyor.ownsJwtSecret" -}}
{{- if and (not .Values.auth.jwksUrl) (not .Values.auth.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "conveyor.ownsSaslPassword" -}}
{{- if and (hasPrefix "SASL_" .Values.kafka.securityProtocol) (not .Values.kafka.sasl.existingSecret) -}}true{{- end -}}
{{- end -}}

{{/* Non-secret settings shared by all services, as a map (ConfigMap data and the hooks' env). */}}
{{- define "conveyor.sharedConfig" -}}
KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
KAFKA_SASL_USERNAME: {{ .Values.kafka.sasl.username | quote }}
{{- end }}
{{- if .Values.kafka.tls.caSecret }}
KAFKA_SSL_CAFILE: {{ printf "/etc/conveyor/kafka-ca/%s" .Values.kafka.tls.caSecretKey | quote }}
{{- end }}
CONVEYOR_ENVIRONMENT: {{ .Values.conveyor.environment | quote }}
{{- if .Values.auth.jwksUrl }}
CONVEYOR_JWT_JWKS_URL: {{ .Values.auth.jwksUrl | quote }}
{{- end }}
{{- if .Values.auth.issuer }}
CONVEYOR_JWT_ISSUER: {{ .Values.auth.issuer | quote }}
{{- end }}
{{- if .Values.auth.audience }}
CONVEYOR_JWT_AUDIENCE: {{ .Values.auth.audience | quote }}
{{- end }}
{{- end -}}

{{/* Non-secret settings of one service. Call with (dict "root" $ "name" $svc "v" $values). */}}
{{- define "conveyor.svcConfig" -}}
{{- $p := upper .name -}}
{{ $p }}_HOST: "0.0.0.0"
{{ $p }}_PORT: {{ .v.port | quote }}
{{ $p }}_LOG_LEVEL: {{ default .root.Values.conveyor.logLevel .v.logLevel | quote }}
{{ $p }}_RUN_WORKERS: {{ .v.runWorkers | quote }}
{{ $p }}_CORS_ORIGINS: {{ join "," .v.corsOrigins | quote }}
{{- if eq .name "notifications" }}
{{- with .root.Values.smtp }}
NOTIFICATIONS_SMTP_HOST: {{ .host | quote }}
NOTIFICATIONS_SMTP_PORT: {{ .port | quote }}
NOTIFICATIONS_SMTP_USERNAME: {{ .username | quote }}
NOTIFICATIONS_SMTP_STARTTLS: {{ .starttls | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Secret environment of one service: env entries with secretKeyRef. `secretName` is the Secret the
chart renders for this service (the Deployment's own, or the migration hook's copy).
Call with (dict "root" $ "name" $svc "v" $values "secretName" "..." "sharedSecretName" "...").
*/}}
{{- define "conveyor.secretEnv" -}}
{{- $p := upper .name -}}
- name: {{ $p }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if .v.existingSecret }}
      name: {{ .v.existingSecret }}
      key: {{ .v.existingSecretKey }}
      {{- else }}
      name: {{ .secretName }}
      key: DATABASE_URL
      {{- end }}
{{- $auth := .root.Values.auth }}
{{- if not $auth.jwksUrl }}
- name: CONVEYOR_JWT_SECRET
  valueFrom:
    secretKeyRef:
      {{- if $auth.existingSecret }}
      name: {{ $auth.existingSecret }}
      key: {{ $auth.existingSecretKey }}
      {{- else }}
      name: {{ .sharedSecretName }}
      key: CONVEYOR_JWT_SECRET
      {{- end }}
{{- end }}
{{- $kafka := .root.Values.kafka }}
{{- if hasPrefix "SASL_" $kafka.securityProtocol }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $kafka.sasl.existingSecret }}
      name: {{ $kafka.sasl.existingSecret }}
      key: {{ $kafka.sasl.existingSecretKey }}
      {{- else }}
      name: {{ .sharedSecretName }}
      key: KAFKA_SASL_PASSWORD
      {{- end }}
{{- end }}
{{- if eq .name "notifications" }}
{{- $smtp := .root.Values.smtp }}
{{- if or $smtp.existingSecret $smtp.password }}
- name: NOTIFICATIONS_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $smtp.existingSecret }}
      name: {{ $smtp.existingSecret }}
      key: {{ $smtp.existingSecretKey }}
      {{- else }}
      name: {{ .secretName }}
      key: SMTP_PASSWORD
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Data of the Secret the chart renders for one service (when it has no existingSecret for all). */}}
{{- define "conveyor.svcSecretData" -}}
{{- if not .v.existingSecret }}
DATABASE_URL: {{ .v.databaseUrl | b64enc | quote }}
{{- end }}
{{- if and (eq .name "notifications") (not .root.Values.smtp.existingSecret) .root.Values.smtp.password }}
SMTP_PASSWORD: {{ .root.Values.smtp.password | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Data of the shared Secret: the generated or given HS256 key, the SASL password. */}}
{{- define "conveyor.sharedSecretData" -}}
{{- if include "conveyor.ownsJwtSecret" . }}
CONVEYOR_JWT_SECRET: {{ include "conveyor.jwtSecret" . | b64enc | quote }}
{{- end }}
{{- if include "conveyor.ownsSaslPassword" . }}
KAFKA_SASL_PASSWORD: {{ .Values.kafka.sasl.password | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Volumes every pod mounts: /tmp and, with kafka.tls.caSecret, the brokers' CA. */}}
{{- define "conveyor.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: {{ .Values.kafka.tls.caSecretKey }}
        path: {{ .Values.kafka.tls.caSecretKey }}
{{- end }}
{{- end -}}

{{- define "conveyor.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/conveyor/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}
