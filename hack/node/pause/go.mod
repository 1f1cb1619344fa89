module rrsa-operator/hack/node/pause

go 1.25.0
