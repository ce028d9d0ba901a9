package alarm

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SMTP is how e-mail notifications (mailto: targets) are sent.
type SMTP struct {
	// Addr is the submission server, host:port ("" : e-mail is not
	// configured and mailto: notifications fail, and are retried, until it is).
	Addr string
	// From is the sender address.
	From string
	// Username and Password authenticate with AUTH PLAIN (none when
	// Username is empty). net/smtp sends them only over TLS or to
	// localhost.
	Username, Password string
	// TLS: "auto" (default: STARTTLS when the server offers it), "always"
	// (STARTTLS required), "never" (plain text), or "tls" (implicit TLS,
	// as on port 465).
	TLS string
	// TLSConfig verifies the server (nil: the system roots, ServerName the
	// host of Addr).
	TLSConfig *tls.Config
	// HelloName is the name given in EHLO (default "localhost").
	HelloName string
	// Timeout bounds one delivery (default 30 s).
	Timeout time.Duration
}

// SMTPModes are the values of SMTP.TLS.
var SMTPModes = []string{"auto", "always", "never", "tls"}

// Check validates the configuration.
func (c *SMTP) Check() error {
	if c.Addr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("SMTP server %q: host:port (%v)", c.Addr, err)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("SMTP sender %q: %v", c.From, err)
	}
	if c.TLS != "" && !slices.Contains(SMTPModes, c.TLS) {
		return fmt.Errorf("SMTP TLS mode %q: %s", c.TLS, strings.Join(SMTPModes, ", "))
	}
	return nil
}

// mailRecipients parses a mailto: target (RFC 6068: addresses separated
// by commas, no headers).
func mailRecipients(u *url.URL) ([]string, error) {
	raw := u.Opaque
	if raw == "" {
		raw = u.Path
	}
	raw, err := url.PathUnescape(raw)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range strings.Split(raw, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		addr, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("mailto address %q: %v", a, err)
		}
		out = append(out, addr.Address)
	}
	if len(out) == 0 {
		return nil, errors.New("mailto: names no address")
	}
	return out, nil
}

// ErrNoSMTP: a mailto: notification while no SMTP server is configured.
var ErrNoSMTP = errors.New("no SMTP server is configured for e-mail notifications (flowlens serve --smtp-server)")

// sendMail delivers n to its mailto: recipients.
func sendMail(ctx context.Context, c SMTP, u *url.URL, n *Notification) error {
	to, err := mailRecipients(u)
	if err != nil {
		return err
	}
	if c.Addr == "" {
		return ErrNoSMTP
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tcfg := c.TLSConfig
	if tcfg == nil {
		tcfg = &tls.Config{}
	}
	tcfg = tcfg.Clone()
	if tcfg.ServerName == "" {
		tcfg.ServerName = host
	}
	var conn net.Conn
	d := &net.Dialer{}
	if c.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tcfg}).DialContext(ctx, "tcp", c.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", c.Addr)
	}
	if err != nil {
		return fmt.Errorf("connect to the SMTP server %s: %w", c.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("SMTP server %s: %w", c.Addr, err)
	}
	defer cl.Close()
	hello := c.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := cl.Hello(hello); err != nil {
		return fmt.Errorf("SMTP EHLO: %w", err)
	}
	if c.TLS != "tls" && c.TLS != "never" {
		if ok, _ := cl.Extension("STARTTLS"); ok {
			if err := cl.StartTLS(tcfg); err != nil {
				return fmt.Errorf("SMTP STARTTLS: %w", err)
			}
		} else if c.TLS == "always" {
			return fmt.Errorf("the SMTP server %s does not offer STARTTLS (TLS mode always)", c.Addr)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, host)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	for _, r := range to {
		if err := cl.Rcpt(r); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", r, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(mailMessage(c.From, to, host, n)); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := cl.Quit(); err != nil {
		return fmt.Errorf("SMTP QUIT: %w", err)
	}
	return nil
}

// headerText keeps a header value on one line.
func headerText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// mailMessage is the RFC 5322 message of a notification (plain UTF-8
// text, CRLF line ends).
func mailMessage(from string, to []string, host string, n *Notification) []byte {
	var id [12]byte
	_, _ = rand.Read(id[:])
	subject := fmt.Sprintf("[flowlens] %s: %s", n.New, n.Alarm)
	var b strings.Builder
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", headerText(subject)))
	hdr("Date", n.Timestamp.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+headerText(host)+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("X-Flowlens-Alarm", mime.QEncoding.Encode("utf-8", headerText(n.Alarm)))
	hdr("X-Flowlens-State", n.New)
	b.WriteString("\r\n")
	body := fmt.Sprintf("Alarm %s changed from %s to %s at %s.\n\nReason: %s\n\nMetric: %s / %s",
		n.Alarm, n.Old, n.New, n.Timestamp.UTC().Format(time.RFC3339), n.Reason, n.Namespace, n.Metric)
	if len(n.Dimensions) > 0 {
		var dims []string
		for _, k := range slices.Sorted(mapKeys(n.Dimensions)) {
			dims = append(dims, k+"="+n.Dimensions[k])
		}
		body += " {" + strings.Join(dims, ", ") + "}"
	}
	body += fmt.Sprintf("\nThreshold: %g\n\n-- \nflowlens alarms history %s\n", n.Threshold, n.Alarm)
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String())
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
