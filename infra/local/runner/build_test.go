package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

func TestGoBuild(t *testing.T) {
	for _, tc := range []struct {
		line  string
		flags []string
		pkgs  []string
	}{
		{`GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc,nethttpomithttp2 -trimpath -ldflags='-s -w -buildid=' -o /tmp/x/bootstrap ./functions/intake`,
			[]string{"-tags", "lambda.norpc,nethttpomithttp2", "-trimpath", "-ldflags=-s -w -buildid="}, []string{"./functions/intake"}},
		{`/usr/local/go/bin/go build -o "$out dir/bootstrap" -ldflags "-X main.v=1" ./cmd/a ./cmd/b && zip x`,
			[]string{"-ldflags", "-X main.v=1"}, []string{"./cmd/a", "./cmd/b"}},
		{`go build -tags=lambda.norpc -o=bin/x .`, []string{"-tags=lambda.norpc"}, []string{"."}},
		{`test -n "/tmp/x" || { echo "go build it"; exit 1; }`, nil, nil},
		{`go vet ./...`, nil, nil},
	} {
		if flags, pkgs := goBuild(tc.line); !reflect.DeepEqual(flags, tc.flags) || !reflect.DeepEqual(pkgs, tc.pkgs) {
			t.Errorf("goBuild(%s) = %q, %q; want %q, %q", tc.line, flags, pkgs, tc.flags, tc.pkgs)
		}
	}
}

func TestMainPackageFromMakefile(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir := t.TempDir()
	makefile := "LAMBDA_BUILD = GOOS=linux GOARCH=arm64 go build -tags lambda.norpc\n" +
		"build-ApiFunction:\n\t@test -n \"$(ARTIFACTS_DIR)\"\n\t$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api\n" +
		"build-NoGoFunction:\n\tcp x $(ARTIFACTS_DIR)/bootstrap\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(makefile), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{opts: Options{Dir: dir}, buildDir: t.TempDir()}
	gotDir, pkg, flags, err := r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "ApiFunction", CodeURI: ".", BuildMethod: "makefile"})
	if err != nil || gotDir != dir || pkg != "./functions/api" || !reflect.DeepEqual(flags, []string{"-tags", "lambda.norpc"}) {
		t.Errorf("mainPackage = %q, %q, %q, %v", gotDir, pkg, flags, err)
	}
	if _, _, _, err := r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "NoGoFunction", CodeURI: ".", BuildMethod: "makefile"}); err == nil {
		t.Error("a target without go build accepted")
	}
	if _, _, _, err := r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "MissingFunction", CodeURI: ".", BuildMethod: "makefile"}); err == nil {
		t.Error("a missing target accepted")
	}
	gotDir, pkg, flags, _ = r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "GoFunction", CodeURI: "functions/x"})
	if gotDir != filepath.Join(dir, "functions/x") || pkg != "." || flags != nil {
		t.Errorf("go1.x: %q %q %q", gotDir, pkg, flags)
	}
}
