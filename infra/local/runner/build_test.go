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

func TestGoBuildPackages(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid=' -o /tmp/x/bootstrap ./functions/intake`, []string{"./functions/intake"}},
		{`/usr/local/go/bin/go build -o "$out dir/bootstrap" -ldflags "-X main.v=1" ./cmd/a ./cmd/b && zip x`, []string{"./cmd/a", "./cmd/b"}},
		{`go build -tags=lambda.norpc -o=bin/x .`, []string{"."}},
		{`test -n "/tmp/x" || { echo "go build it"; exit 1; }`, nil},
		{`go vet ./...`, nil},
	} {
		if got := goBuildPackages(tc.line); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("goBuildPackages(%s) = %q, want %q", tc.line, got, tc.want)
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
	gotDir, pkg, err := r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "ApiFunction", CodeURI: ".", BuildMethod: "makefile"})
	if err != nil || gotDir != dir || pkg != "./functions/api" {
		t.Errorf("mainPackage = %q, %q, %v", gotDir, pkg, err)
	}
	if _, _, err := r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "NoGoFunction", CodeURI: ".", BuildMethod: "makefile"}); err == nil {
		t.Error("a target without go build accepted")
	}
	if _, _, err := r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "MissingFunction", CodeURI: ".", BuildMethod: "makefile"}); err == nil {
		t.Error("a missing target accepted")
	}
	gotDir, pkg, _ = r.mainPackage(context.Background(), &samtemplate.Function{LogicalID: "GoFunction", CodeURI: "functions/x"})
	if gotDir != filepath.Join(dir, "functions/x") || pkg != "." {
		t.Errorf("go1.x: %q %q", gotDir, pkg)
	}
}
