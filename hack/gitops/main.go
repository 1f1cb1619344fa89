// Command gitops-check evaluates PodIdentityBinding objects the way GitOps tools do, so tests can
// assert their verdicts with the tools' own code instead of a re-implementation:
//
//	gitops-check kstatus            < objects.json   Flux's kstatus (github.com/fluxcd/cli-utils)
//	gitops-check argo-health FILE   < objects.json   an Argo CD health.lua, run by gopher-lua
//
// Input is a JSON array of objects; output is a JSON array of {status, message}, one per object.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: gitops-check kstatus | argo-health FILE  (objects as a JSON array on stdin)")
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(input, &raws); err != nil {
		fail("stdin must be a JSON array of objects: " + err.Error())
	}
	// Decode like the apiserver's clients do (integers as int64), which kstatus relies on.
	objects := make([]map[string]interface{}, 0, len(raws))
	for _, raw := range raws {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			fail("bad object: " + err.Error())
		}
		objects = append(objects, u.Object)
	}
	var verdicts []verdict
	switch os.Args[1] {
	case "kstatus":
		verdicts = kstatusAll(objects)
	case "argo-health":
		if len(os.Args) < 3 {
			fail("argo-health needs the path of a health.lua")
		}
		script, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail(err.Error())
		}
		verdicts = argoAll(string(script), objects)
	default:
		fail("unknown mode " + os.Args[1])
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "gitops-check:", message)
	os.Exit(2)
}

func kstatusAll(objects []map[string]interface{}) []verdict {
	out := make([]verdict, 0, len(objects))
	for _, obj := range objects {
		result, err := status.Compute(&unstructured.Unstructured{Object: obj})
		if err != nil {
			out = append(out, verdict{Status: "Error", Message: err.Error()})
			continue
		}
		out = append(out, verdict{Status: result.Status.String(), Message: result.Message})
	}
	return out
}

// argoAll runs the script like Argo CD's util/lua does for health checks: a fresh state with the
// base, table, string and math libraries, the object as the global `obj`, and a returned table
// with `status` and `message`.
func argoAll(script string, objects []map[string]interface{}) []verdict {
	out := make([]verdict, 0, len(objects))
	for _, obj := range objects {
		out = append(out, argoOne(script, obj))
	}
	return out
}

func argoOne(script string, obj map[string]interface{}) verdict {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return verdict{Status: "Error", Message: err.Error()}
	}
	table, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return verdict{Status: "Error", Message: "health.lua did not return a table"}
	}
	return verdict{Status: table.RawGetString("status").String(), Message: luaString(table.RawGetString("message"))}
}

func luaString(v lua.LValue) string {
	if v == lua.LNil {
		return ""
	}
	return v.String()
}

func toLua(L *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []interface{}:
		t := L.NewTable()
		for _, item := range x {
			t.Append(toLua(L, item))
		}
		return t
	case map[string]interface{}:
		t := L.NewTable()
		for k, item := range x {
			t.RawSetString(k, toLua(L, item))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(x))
	}
}
