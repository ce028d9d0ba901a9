// Package userdocs holds the end-to-end test corpus built from the five
// users' articles the project keeps (docs/user-docs.md lists every item of
// them): each query, pattern, command and SQL statement is run as written
// through the flowlens command line over data generated in the article's
// own flow log format, and its answer is checked against one computed in
// the test from the generated files with plain Go, not by flowlens.
package userdocs
