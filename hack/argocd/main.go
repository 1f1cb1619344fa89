// Command argocd-health assesses objects with Argo CD's own health code, the way
// `argocd admin settings resource-overrides health --argocd-cm-path FILE` does offline and the
// application controller does live: the argocd-cm ConfigMap goes through util/settings (a fake
// clientset, as the CLI's offline mode uses) into resource overrides, and each object through
// gitops-engine's health.GetResourceHealth with util/lua's ResourceHealthOverrides (the Lua VM
// with Argo's own library set and timeout).
//
//	argocd-health ARGOCD_CM_YAML < objects.json
//
// Input is a JSON array of objects; output is a JSON array of {status, message}, one per object
// (status "None" when no health check applies, "Error" with the message when it fails).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"github.com/argoproj/argo-cd/v3/common"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
	log "github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	log.SetOutput(io.Discard)
	if len(os.Args) != 2 {
		fail("usage: argocd-health ARGOCD_CM_YAML  (objects as a JSON array on stdin)")
	}
	overrides, err := resourceOverrides(os.Args[1])
	if err != nil {
		fail(err.Error())
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(input, &raws); err != nil {
		fail("stdin must be a JSON array of objects: " + err.Error())
	}
	out := make([]verdict, 0, len(raws))
	for _, raw := range raws {
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw); err != nil {
			fail("bad object: " + err.Error())
		}
		hs, err := health.GetResourceHealth(obj, lua.ResourceHealthOverrides(overrides))
		switch {
		case err != nil:
			out = append(out, verdict{Status: "Error", Message: err.Error()})
		case hs == nil:
			out = append(out, verdict{Status: "None", Message: "no health check for " + obj.GroupVersionKind().String()})
		default:
			out = append(out, verdict{Status: string(hs.Status), Message: hs.Message})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err.Error())
	}
}

// resourceOverrides reads argocd-cm like the CLI's offline mode (cmd/argocd/commands/admin
// settings.go, --argocd-cm-path): the file's ConfigMap and a stub argocd-secret in a fake
// clientset, read back by a SettingsManager.
func resourceOverrides(path string) (map[string]appv1.ResourceOverride, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.Unmarshal(data, cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	meta := func(m *metav1.ObjectMeta, name string) {
		m.Name, m.Namespace = name, "default"
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		m.Labels["app.kubernetes.io/part-of"] = "argocd"
	}
	meta(&cm.ObjectMeta, common.ArgoCDConfigMapName)
	secret := &corev1.Secret{Data: map[string][]byte{"admin.password": []byte("test"), "server.secretkey": []byte("test")}}
	meta(&secret.ObjectMeta, common.ArgoCDSecretName)
	ctx := context.Background()
	manager := settings.NewSettingsManager(ctx, fake.NewClientset(secret, cm), "default")
	if err := manager.ResyncInformers(); err != nil {
		return nil, err
	}
	return manager.GetResourceOverrides()
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "argocd-health:", message)
	os.Exit(2)
}
