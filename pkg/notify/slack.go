package notify

import (
	"net/url"
	"strings"
)

// slackPayload is the body of a post to a Slack incoming webhook: text
// (shown in notifications, and where blocks are not) and blocks.
type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// maxSlackText is the most a section's text may hold (Slack's limit is
// 3000 characters).
const maxSlackText = 2900

func mrkdwn(s string) slackText { return slackText{Type: "mrkdwn", Text: s} }

// slackMessage says msg in Slack's words: a headline, the project,
// environment, release and status, the reason, and a link to the build.
func slackMessage(msg Message) slackPayload {
	head, plain := headline(msg)
	fields := []slackText{
		mrkdwn("*Project*\n" + escape(msg.Project)),
		mrkdwn("*Environment*\n" + escape(msg.Environment)),
		mrkdwn("*Release*\n`" + escape(msg.ReleaseID) + "`"),
		mrkdwn("*Status*\n" + escape(msg.Status)),
	}
	if msg.RequestedBy != "" {
		fields = append(fields, mrkdwn("*Requested by*\n"+escape(msg.RequestedBy)))
	}
	blocks := []slackBlock{
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: head}},
		{Type: "section", Fields: fields},
	}
	if msg.Reason != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "*Reason*\n" + cut(escape(msg.Reason), maxSlackText)}})
	}
	context := "deployment `" + escape(msg.DeploymentID) + "`"
	if link := slackLink(msg.CI.BuildURL, "CI build"); link != "" {
		context = link + " · " + context
	}
	if msg.CI.Commit != "" {
		context += " · commit `" + escape(prefixOf(msg.CI.Commit, 12)) + "`"
	}
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{mrkdwn(context)}})
	return slackPayload{Text: plain, Blocks: blocks}
}

// headline says what happened, in Slack's mrkdwn and in plain text.
func headline(msg Message) (string, string) {
	p, r, e := escape(msg.Project), escape(msg.ReleaseID), escape(msg.Environment)
	var emoji, what string
	switch {
	case msg.RollbackOf != "" && msg.Event == "start":
		emoji, what = ":leftwards_arrow_with_hook:", "rolling "+e+" back to release "+r
	case msg.RollbackOf != "" && msg.Event == "success":
		emoji, what = ":leftwards_arrow_with_hook:", e+" is rolled back to release "+r
	case msg.Event == "start":
		emoji, what = ":rocket:", "deploying release "+r+" to "+e
	case msg.Event == "success":
		emoji, what = ":white_check_mark:", "release "+r+" is deployed to "+e
	case msg.Event == "rollback":
		emoji, what = ":leftwards_arrow_with_hook:", "the deployment of release "+r+" to "+e+" failed and was rolled back to what ran before"
	case msg.Status == "cancelled":
		emoji, what = ":no_entry_sign:", "the deployment of release "+r+" to "+e+" was cancelled"
	default:
		emoji, what = ":x:", "the deployment of release "+r+" to "+e+" failed"
	}
	return emoji + " *" + p + "*: " + what, p + ": " + what
}

// escape makes s plain text in Slack's mrkdwn: &, < and > are its markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink is <u|text>, or "" when u is not a plain http(s) URL.
func slackLink(u, text string) string {
	p, err := url.Parse(u)
	if u == "" || err != nil || (p.Scheme != "https" && p.Scheme != "http") || strings.ContainsAny(u, "|<> ") {
		return ""
	}
	return "<" + strings.ReplaceAll(u, "&", "&amp;") + "|" + text + ">"
}

// cut shortens s to at most n bytes, on a character boundary, saying so.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return prefixOf(s, n) + "…"
}

// prefixOf is s cut to at most n bytes, on a character boundary.
func prefixOf(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
