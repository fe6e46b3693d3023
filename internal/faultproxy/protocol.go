package faultproxy

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// services maps X-Amz-Target prefixes to IAM service prefixes.
var services = map[string]string{
	"AmazonEC2ContainerRegistry_V20150921": "ecr",
	"AmazonEC2ContainerServiceV20141113":   "ecs",
	"DynamoDB_20120810":                    "dynamodb",
	"AmazonSSM":                            "ssm",
	"ResourceGroupsTaggingAPI_20170126":    "tag",
	"Logs_20140328":                        "logs",
}

// operation names the service and operation of a request: from
// X-Amz-Target for the JSON protocols, from the Action parameter for the
// query protocol (STS). Other requests are "http" and their path.
func operation(r *http.Request, body []byte) (service, op string) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := strings.Cut(target, ".")
		if !ok {
			return "unknown", target
		}
		if s, ok := services[prefix]; ok {
			return s, op
		}
		return prefix, op
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			return queryService(r), form.Get("Action")
		}
	}
	return "http", r.Method + " " + r.URL.Path
}

// queryService guesses the service of a query-protocol call from its
// signature's credential scope (".../eu-west-1/sts/aws4_request").
func queryService(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "query"
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) >= 4 {
		return parts[3]
	}
	return "query"
}

// writeError answers an AWS error in the protocol of the request: JSON
// 1.0 (DynamoDB: a namespaced __type), JSON 1.1 (ECR, ECS, SSM: a bare
// __type), or query XML (STS). jsonCode and queryCode are the error codes
// in each (AWS names throttling ThrottlingException in JSON, Throttling in
// query XML).
func writeError(w http.ResponseWriter, r *http.Request, status int, jsonCode, queryCode, message string) {
	w.Header().Set("X-Amzn-RequestId", "faultproxy-injected")
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-amz-json-1.0"):
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"__type": "com.amazonaws.dynamodb.v20120810#" + jsonCode, "message": message,
		})
	case strings.HasPrefix(ct, "application/x-amz-json"):
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": jsonCode, "message": message})
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		kind := "Receiver"
		if status < 500 {
			kind = "Sender"
		}
		_, _ = fmt.Fprintf(w, "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"+
			"<RequestId>faultproxy-injected</RequestId></ErrorResponse>", kind, queryCode, html.EscapeString(message))
	}
}
