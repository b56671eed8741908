// Command snippetwf writes each workflow snippet of README.md and docs/*.md
// as a whole workflow file into a folder, for actionlint (scripts/actionlint).
//
//	go run ./scripts/internal/snippetwf OUTDIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/provenant/provenant/scripts/internal/snippets"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: snippetwf OUTDIR")
		os.Exit(2)
	}
	docs, err := filepath.Glob("docs/*.md")
	if err == nil {
		var list []snippets.Snippet
		if list, err = snippets.Find(".", append([]string{"README.md"}, docs...)); err == nil {
			for _, s := range list {
				if err = os.WriteFile(filepath.Join(os.Args[1], s.Name()), s.Workflow, 0o644); err != nil {
					break
				}
			}
			fmt.Fprintf(os.Stderr, "snippetwf: %d workflow snippets\n", len(list))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "snippetwf:", err)
		os.Exit(1)
	}
}
