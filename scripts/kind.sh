#!/usr/bin/env bash
# The kind path: `make kind-up`, `make kind-deploy`, `make kind-demo`, `make kind-down`.
#
#   scripts/kind.sh up|deploy|demo|down
#
# The Makefile is the one place that names the images and the cluster; it passes
# them here as environment variables (OPERATOR_IMAGE, RUNTIME_IMAGE, KIND_CLUSTER,
# KIND, KUBECTL). Every kubectl call names the kind context explicitly, so this never
# touches whatever cluster the current kubeconfig context points at.
# docs/deploy.md ("The kind path") explains each step.
set -euo pipefail
cd "$(dirname "$0")/.."

KIND="${KIND:-kind}"
KUBECTL="${KUBECTL:-kubectl}"
KIND_CLUSTER="${KIND_CLUSTER:?KIND_CLUSTER is set by the Makefile}"
CONTEXT="kind-${KIND_CLUSTER}"
# The demo's namespace: the product API (medusa.shop.svc.cluster.local:9000, the
# operator's default backend URL), the sample ScheduledJob, its Secret and its runs.
DEMO_NAMESPACE=shop

k() { "$KUBECTL" --context "$CONTEXT" "$@"; }
say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_tools() {
  command -v "$KIND" >/dev/null || die "kind not found (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
  command -v docker >/dev/null || die "docker not found"
  docker info >/dev/null 2>&1 || die "docker is installed but its engine is not reachable (docker info failed)"
}

cluster_exists() { "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; }

up() {
  need_tools
  if cluster_exists; then
    say "kind cluster ${KIND_CLUSTER} exists already"
  else
    say "creating kind cluster ${KIND_CLUSTER} (kind-config.yaml)"
    "$KIND" create cluster --name "$KIND_CLUSTER" --config kind-config.yaml --wait 120s
  fi
  k cluster-info
}

deploy() {
  need_tools
  : "${OPERATOR_IMAGE:?OPERATOR_IMAGE is set by the Makefile}"
  : "${RUNTIME_IMAGE:?RUNTIME_IMAGE is set by the Makefile}"
  cluster_exists || die "kind cluster ${KIND_CLUSTER} does not exist: run \`make kind-up\` first"
  # The overlay must run exactly the images built and loaded here.
  local rendered
  rendered=$("$KUBECTL" kustomize manifests/overlays/kind)
  grep -qx " *image: ${OPERATOR_IMAGE}" <<<"$rendered" ||
    die "manifests/overlays/kind does not run ${OPERATOR_IMAGE} (the kind path uses IMAGE_TAG=dev)"
  grep -qx " *SHOPCRON_RUNTIME_IMAGE: ${RUNTIME_IMAGE}" <<<"$rendered" ||
    die "manifests/overlays/kind does not default job pods to ${RUNTIME_IMAGE} (the kind path uses IMAGE_TAG=dev)"
  say "loading ${OPERATOR_IMAGE} and ${RUNTIME_IMAGE} into the kind node"
  "$KIND" load docker-image --name "$KIND_CLUSTER" "$OPERATOR_IMAGE" "$RUNTIME_IMAGE"
  say "applying the CRD, RBAC, defaults and operator (manifests/overlays/kind)"
  # The CRD goes first and must be established before anything refers to it.
  k apply -k crds
  k wait --for=condition=Established --timeout=60s crd/scheduledjobs.shopcron.io
  k apply -k manifests/overlays/kind
  # A changed image with the same :dev tag needs a new pod to be picked up.
  k -n shopcron-system rollout restart deployment/shopcron-operator
  k -n shopcron-system rollout status deployment/shopcron-operator --timeout=180s
}

# Wait until the pod of Job $1 has left Pending (running or already finished).
wait_for_pod() {
  local job=$1 deadline=$((SECONDS + 180)) phase=""
  while ((SECONDS < deadline)); do
    phase=$(k -n "$DEMO_NAMESPACE" get pods -l "job-name=${job}" \
      -o jsonpath='{.items[0].status.phase}' 2>/dev/null || true)
    case "$phase" in
      Running | Succeeded | Failed) return 0 ;;
    esac
    sleep 2
  done
  k -n "$DEMO_NAMESPACE" describe job "$job" >&2 || true
  die "the pod of Job ${job} did not start within 180s (phase: ${phase:-none})"
}

demo() {
  need_tools
  cluster_exists || die "kind cluster ${KIND_CLUSTER} does not exist: run \`make kind-up kind-deploy\` first"
  # One key per demo, known to the product API and to the sample's Secret only.
  local api_key
  api_key="sk_demo_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

  say "deploying the demo product API with 25 draft products (manifests/demo)"
  k apply -f manifests/demo/namespace.yaml
  # The server's code is the repository's test product API (standard library only),
  # mounted from a ConfigMap into the runtime image, which already has Python.
  k -n "$DEMO_NAMESPACE" create configmap product-api-code \
    --from-file=tests.__init__.py=tests/__init__.py \
    --from-file=tests.support.__init__.py=tests/support/__init__.py \
    --from-file=tests/support/product_api/__init__.py \
    --from-file=tests/support/product_api/__main__.py \
    --from-file=tests/support/product_api/server.py \
    --dry-run=client -o yaml | k apply -f -
  k -n "$DEMO_NAMESPACE" create secret generic product-api-key \
    --from-literal=apiKey="$api_key" --dry-run=client -o yaml | k apply -f -
  k apply -k manifests/demo
  # A fresh server each time: 25 drafts again, the current code and key.
  k -n "$DEMO_NAMESPACE" rollout restart deployment/medusa
  k -n "$DEMO_NAMESPACE" rollout status deployment/medusa --timeout=120s

  say "applying the sample ScheduledJob (manifests/samples) and its Secret in namespace ${DEMO_NAMESPACE}"
  k -n "$DEMO_NAMESPACE" create secret generic shopcron-backend \
    --from-literal=apiKey="$api_key" --dry-run=client -o yaml | k apply -f -
  k -n "$DEMO_NAMESPACE" apply -k manifests/samples
  k -n "$DEMO_NAMESPACE" wait scheduledjob/publish-products --for=condition=Ready --timeout=60s
  k -n "$DEMO_NAMESPACE" get scheduledjob publish-products
  local cronjob
  cronjob=$(k -n "$DEMO_NAMESPACE" get scheduledjob publish-products -o jsonpath='{.status.cronJobName}')
  [[ -n "$cronjob" ]] || die "ScheduledJob publish-products reports no cronJobName"

  local job
  job="publish-products-demo-$(date +%s)"
  say "starting a run now: kubectl create job --from=cronjob/${cronjob} ${job}"
  k -n "$DEMO_NAMESPACE" create job --from="cronjob/${cronjob}" "$job"
  wait_for_pod "$job"
  say "following the run's log: kubectl -n ${DEMO_NAMESPACE} logs -f job/${job}"
  k -n "$DEMO_NAMESPACE" logs -f "job/${job}"
  k -n "$DEMO_NAMESPACE" wait "job/${job}" --for=condition=Complete --timeout=60s

  say "the ScheduledJob's status and the product API after the run"
  k -n "$DEMO_NAMESPACE" get scheduledjob publish-products \
    -o jsonpath='lastRun: {.status.lastRun}{"\n"}'
  k get --raw "/api/v1/namespaces/${DEMO_NAMESPACE}/services/medusa:9000/proxy/_test/state"
  echo
}

down() {
  command -v "$KIND" >/dev/null || die "kind not found"
  "$KIND" delete cluster --name "$KIND_CLUSTER"
}

case "${1:-}" in
  up) up ;;
  deploy) deploy ;;
  demo) demo ;;
  down) down ;;
  *) die "usage: scripts/kind.sh up|deploy|demo|down" ;;
esac
