package alarm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Notification is one state change to deliver to one target.
type Notification struct {
	ID         string            `json:"id"`
	Target     string            `json:"target"`
	Alarm      string            `json:"alarmName"`
	Old        string            `json:"oldState"`
	New        string            `json:"newState"`
	Reason     string            `json:"reason"`
	Namespace  string            `json:"namespace"`
	Metric     string            `json:"metricName"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Threshold  float64           `json:"threshold"`
	Timestamp  time.Time         `json:"timestamp"`
	Attempts   int               `json:"attempts"`
	NextTry    time.Time         `json:"nextTry"`
	LastError  string            `json:"lastError,omitempty"`
}

// maxAttempts bounds the deliveries of one notification.
const maxAttempts = 10

// backoff is the wait before attempt n+1.
func backoff(n int) time.Duration {
	d := time.Second << min(n, 10)
	return min(d, 10*time.Minute)
}

// parseTarget splits a target into its kind and URL.
func parseTarget(t string) (kind string, u *url.URL, err error) {
	if strings.HasPrefix(t, "mailto:") {
		u, err = url.Parse(t)
		if err != nil {
			return "", nil, err
		}
		if _, err := mailRecipients(u); err != nil {
			return "", nil, err
		}
		return "email", u, nil
	}
	kind = "webhook"
	raw := t
	for _, k := range []string{"slack", "alertmanager", "webhook"} {
		if rest, ok := strings.CutPrefix(t, k+"+"); ok {
			kind, raw = k, rest
		}
	}
	u, err = url.Parse(raw)
	if err != nil {
		return "", nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", nil, errors.New("a target is an http(s) URL, optionally prefixed slack+ or alertmanager+, or mailto:ADDRESS[,ADDRESS…]")
	}
	return kind, u, nil
}

// send delivers n once.
func send(ctx context.Context, client *http.Client, mail SMTP, n *Notification) error {
	kind, u, err := parseTarget(n.Target)
	if err != nil {
		return err
	}
	var body any
	switch kind {
	case "email":
		return sendMail(ctx, mail, u, n)
	case "slack":
		icon := ":white_check_mark:"
		if n.New == Alarm {
			icon = ":rotating_light:"
		} else if n.New == InsufficientData {
			icon = ":grey_question:"
		}
		body = map[string]any{"text": fmt.Sprintf("%s *%s* is %s (was %s): %s", icon, n.Alarm, n.New, n.Old, n.Reason)}
	case "alertmanager":
		u = u.JoinPath("api", "v2", "alerts")
		labels := map[string]string{"alertname": n.Alarm, "namespace": n.Namespace, "metric": n.Metric, "source": "flowlens"}
		for k, v := range n.Dimensions {
			labels[k] = v
		}
		alert := map[string]any{
			"labels":       labels,
			"annotations":  map[string]string{"summary": fmt.Sprintf("%s is %s", n.Alarm, n.New), "description": n.Reason},
			"startsAt":     n.Timestamp.UTC().Format(time.RFC3339),
			"generatorURL": "",
		}
		if n.New != Alarm {
			// Resolve: an alert whose end is now.
			alert["endsAt"] = n.Timestamp.UTC().Format(time.RFC3339)
		}
		body = []any{alert}
	default:
		body = n
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
