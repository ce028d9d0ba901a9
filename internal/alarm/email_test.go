package alarm

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/metricfilter"
)

// sinkMessage is one message an smtpSink accepted.
type sinkMessage struct {
	From string
	To   []string
	Data string
	TLS  bool   // the session was encrypted when DATA came
	User string // the AUTH PLAIN user
}

// smtpSink is a small SMTP server that records what it is sent: EHLO,
// STARTTLS (when it has a certificate), AUTH PLAIN (when it has a
// password; only over TLS), MAIL, RCPT, DATA, RSET, NOOP, QUIT. The first
// failMail MAIL commands get a 451 (a temporary failure).
type smtpSink struct {
	ln       net.Listener
	cert     *tls.Certificate
	user     string
	password string

	mu       sync.Mutex
	failMail int
	msgs     []sinkMessage
	wg       sync.WaitGroup
}

func startSink(t *testing.T, cert *tls.Certificate, user, password string, failMail int) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln, cert: cert, user: user, password: password, failMail: failMail}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.session(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpSink) addr() string { return s.ln.Addr().String() }

func (s *smtpSink) messages() []sinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMessage(nil), s.msgs...)
}

func (s *smtpSink) session(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	encrypted, user := false, ""
	var cur sinkMessage
	reply := func(code int, lines ...string) {
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			_ = tp.PrintfLine("%d%s%s", code, sep, l)
		}
	}
	reply(220, "sink ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"sink greets " + arg, "8BITMIME"}
			if s.cert != nil && !encrypted {
				ext = append(ext, "STARTTLS")
			}
			if s.password != "" && encrypted {
				ext = append(ext, "AUTH PLAIN")
			}
			reply(250, ext...)
		case "HELO", "NOOP":
			reply(250, "ok")
		case "STARTTLS":
			if s.cert == nil || encrypted {
				reply(502, "no")
				continue
			}
			reply(220, "go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*s.cert}})
			if err := tc.Handshake(); err != nil {
				return
			}
			c, encrypted = tc, true
			tp = textproto.NewConn(tc)
			cur = sinkMessage{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if !encrypted || mech != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.password {
				reply(535, "authentication failed")
				continue
			}
			user = parts[1]
			reply(235, "authenticated")
		case "MAIL":
			if s.password != "" && user == "" {
				reply(530, "authentication required")
				continue
			}
			s.mu.Lock()
			fail := s.failMail > 0
			if fail {
				s.failMail--
			}
			s.mu.Unlock()
			if fail {
				reply(451, "try again later")
				continue
			}
			from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:"), " ") // then BODY=8BITMIME
			cur = sinkMessage{From: strings.Trim(from, "<>")}
			reply(250, "ok")
		case "RCPT":
			cur.To = append(cur.To, strings.Trim(arg[len("TO:"):], "<>"))
			reply(250, "ok")
		case "DATA":
			reply(354, "end with .")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data, cur.TLS, cur.User = string(b), encrypted, user
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			reply(250, "queued")
		case "RSET":
			cur = sinkMessage{}
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(500, "unknown command")
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// alarmFixture is an SSH filter, its evaluator and an alarm with actions.
func alarmFixture(t *testing.T, clk *clock, cfg Config, actions ...string) (*Evaluator, *Store) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	filters := metricfilter.Open(dir)
	if _, err := filters.Add(ctx, metricfilter.Filter{Dataset: "prod", Name: "RejectedSSH",
		Pattern: `[version, account, eni, src, dst, sport, dport="22", proto="6", pkts, bytes, wstart, wend, action="REJECT", status]`,
		Metric:  metricfilter.Transformation{MetricName: "RejectedSSH", MetricNamespace: "VPCFlowLogs", MetricValue: "1"}}); err != nil {
		t.Fatal(err)
	}
	mev, err := filtereval.New(filtereval.Config{Dir: dir}, filtereval.Deps{Filters: filters, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := mev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mev.Stop(context.Background()) })
	alarms := Open(dir)
	if _, err := alarms.Put(ctx, Definition{Name: "ssh-brute-force", Namespace: "VPCFlowLogs", MetricName: "RejectedSSH",
		Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: "GreaterThanOrEqualToThreshold",
		TreatMissingData: "notBreaching", AlarmActions: actions}); err != nil {
		t.Fatal(err)
	}
	ae, err := New(cfg, Deps{Alarms: alarms, Metrics: mev, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	// The attack: 40 attempts in one period.
	base := clk.now().Truncate(5 * time.Minute).Unix()
	var attack []string
	for i := range 40 {
		attack = append(attack, sshLine("198.51.100.66", base+int64(i*7)))
	}
	ingest(t, mev, "prod", attack)
	clk.set(time.Unix(base+305, 0))
	if err := ae.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	return ae, alarms
}

func lastAction(t *testing.T, alarms *Store) string {
	t.Helper()
	h, err := alarms.History(context.Background(), "ssh-brute-force")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range h {
		if x.Kind == "Action" {
			return x.Reason
		}
	}
	return ""
}

// TestEmailPlain: an alarm's mailto: action reaches a local SMTP sink as
// a message naming the alarm, its new state and the reason; a first
// temporary failure (451) is retried after the backoff.
func TestEmailPlain(t *testing.T) {
	ctx := context.Background()
	sink := startSink(t, nil, "", "", 1)
	clk := &clock{t: time.Date(2024, 5, 31, 10, 0, 30, 0, time.UTC)}
	ae, alarms := alarmFixture(t, clk, Config{SMTP: SMTP{Addr: sink.addr(), From: "flowlens@example.com", TLS: "never"}},
		"mailto:ops@example.com,oncall@example.com")
	ae.Deliver(ctx)
	if n := len(sink.messages()); n != 0 {
		t.Fatalf("%d messages after a 451", n)
	}
	if r := lastAction(t, alarms); r != "" {
		t.Fatalf("a failed first attempt is not final: %q", r)
	}
	doc, _ := alarms.read()
	if len(doc.Outbox) != 1 || doc.Outbox[0].Attempts != 1 || !strings.Contains(doc.Outbox[0].LastError, "451") {
		t.Fatalf("outbox %+v", doc.Outbox)
	}
	ae.Deliver(ctx) // not due yet
	if n := len(sink.messages()); n != 0 {
		t.Fatal("retried before the backoff")
	}
	clk.set(clk.now().Add(3 * time.Second))
	ae.Deliver(ctx)
	msgs := sink.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "flowlens@example.com" || strings.Join(m.To, " ") != "ops@example.com oncall@example.com" || m.TLS {
		t.Fatalf("envelope %+v", m)
	}
	hdr, err := textproto.NewReader(bufio.NewReader(strings.NewReader(m.Data))).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Get("Subject") != "[flowlens] ALARM: ssh-brute-force" || hdr.Get("To") != "ops@example.com, oncall@example.com" ||
		hdr.Get("Content-Type") != "text/plain; charset=utf-8" || hdr.Get("Message-Id") == "" || hdr.Get("Date") == "" {
		t.Fatalf("headers %v", hdr)
	}
	if !strings.Contains(m.Data, "changed from INSUFFICIENT_DATA to ALARM") || !strings.Contains(m.Data, "[40 (") || !strings.Contains(m.Data, "VPCFlowLogs / RejectedSSH") {
		t.Fatalf("body %s", m.Data)
	}
	if r := lastAction(t, alarms); r != "Successfully notified mailto:ops@example.com,oncall@example.com" {
		t.Fatalf("history %q", r)
	}
}

// TestEmailStartTLSAuth: STARTTLS (verified against the sink's
// certificate) then AUTH PLAIN, as a submission server wants; with TLS
// mode always, a server without STARTTLS is an error (retried), never a
// clear-text password.
func TestEmailStartTLSAuth(t *testing.T) {
	ctx := context.Background()
	cert, pool := selfSigned(t)
	sink := startSink(t, cert, "alerts", "s3cret", 0)
	clk := &clock{t: time.Date(2024, 5, 31, 10, 0, 30, 0, time.UTC)}
	ae, alarms := alarmFixture(t, clk, Config{SMTP: SMTP{Addr: sink.addr(), From: "flowlens@example.com", Username: "alerts", Password: "s3cret",
		TLS: "always", TLSConfig: &tls.Config{RootCAs: pool}}}, "mailto:ops@example.com")
	ae.Deliver(ctx)
	msgs := sink.messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "alerts" {
		t.Fatalf("messages %+v; history %q", msgs, lastAction(t, alarms))
	}

	plain := startSink(t, nil, "", "", 0)
	clk2 := &clock{t: time.Date(2024, 5, 31, 10, 0, 30, 0, time.UTC)}
	ae2, alarms2 := alarmFixture(t, clk2, Config{SMTP: SMTP{Addr: plain.addr(), From: "flowlens@example.com", TLS: "always"}}, "mailto:ops@example.com")
	ae2.Deliver(ctx)
	doc, _ := alarms2.read()
	if len(plain.messages()) != 0 || len(doc.Outbox) != 1 || !strings.Contains(doc.Outbox[0].LastError, "does not offer STARTTLS") {
		t.Fatalf("outbox %+v", doc.Outbox)
	}
	// An untrusted certificate fails too.
	sink3 := startSink(t, cert, "", "", 0)
	clk3 := &clock{t: time.Date(2024, 5, 31, 10, 0, 30, 0, time.UTC)}
	ae3, alarms3 := alarmFixture(t, clk3, Config{SMTP: SMTP{Addr: sink3.addr(), From: "flowlens@example.com"}}, "mailto:ops@example.com")
	ae3.Deliver(ctx)
	doc, _ = alarms3.read()
	if len(sink3.messages()) != 0 || len(doc.Outbox) != 1 || !strings.Contains(doc.Outbox[0].LastError, "STARTTLS") {
		t.Fatalf("untrusted: outbox %+v", doc.Outbox)
	}
}

// TestEmailTargets: mailto: targets are validated; without an SMTP
// server a notification waits in the outbox, saying why.
func TestEmailTargets(t *testing.T) {
	for _, bad := range []string{"mailto:", "mailto:not an address", "mailto:a@example.com,@"} {
		d := Definition{Name: "a", Namespace: "n", MetricName: "m", Statistic: "Sum", Period: 60, EvaluationPeriods: 1,
			ComparisonOperator: "GreaterThanThreshold", AlarmActions: []string{bad}}
		if err := d.Validate(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := New(Config{SMTP: SMTP{Addr: "127.0.0.1:25", From: "nobody"}}, Deps{Alarms: Open(t.TempDir()), Metrics: &filtereval.Evaluator{}}); err == nil {
		t.Error("a bad sender accepted")
	}
	clk := &clock{t: time.Date(2024, 5, 31, 10, 0, 30, 0, time.UTC)}
	ae, alarms := alarmFixture(t, clk, Config{}, "mailto:ops@example.com")
	ae.Deliver(context.Background())
	doc, _ := alarms.read()
	if len(doc.Outbox) != 1 || !strings.Contains(doc.Outbox[0].LastError, "--smtp-server") {
		t.Fatalf("outbox %+v", doc.Outbox)
	}
}
