package inputfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.json")
	os.WriteFile(ok, []byte(`{"a":1}`), 0o644)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 2048), 0o644)
	type readCase struct {
		name, path string
		wantErr    string
	}
	tests := []readCase{
		{"regular file", ok, ""},
		{"a folder", dir, "a folder"},
		{"too large", big, "larger than the 1024 byte limit"},
		{"missing", filepath.Join(dir, "nope"), missingFileText},
	}
	if runtime.GOOS != "windows" { // no /dev/zero and no FIFOs in the file system there
		fifo := filepath.Join(dir, "fifo")
		if err := mkfifo(fifo); err != nil {
			t.Fatal(err)
		}
		tests = append(tests,
			readCase{"/dev/zero is endless", "/dev/zero", "a device"},
			readCase{"a FIFO blocks its reader", fifo, "a named pipe"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Read(context.Background(), tt.path, 1024)
			if tt.wantErr == "" {
				if err != nil || string(data) != `{"a":1}` {
					t.Errorf("Read = %q, %v", data, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadStopsWhenTheContextEnds(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("data"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, p, 1024); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
