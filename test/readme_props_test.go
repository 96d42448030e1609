package test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReadmePropsTableMatchesTheCode keeps README.md's props tables and the Go structs from drifting apart: the
// SparkLambdaProps table under "### Props", the SparkEmrServerlessProps table under "#### SparkEmrServerless
// props" and the EmrRoutingOptions table under "#### Routing". Every exported field of the struct has a row and every row names a field; where the package declares
// Default<Field>, Min<Field> and Max<Field> constants, the row's Default cell shows the default and its Valid cell
// the range. The code is read with go/parser, so a renamed field or a changed constant fails here.
func TestReadmePropsTableMatchesTheCode(t *testing.T) {
	for _, table := range []struct{ structName, heading string }{
		{"SparkLambdaProps", "### Props"},
		{"SparkEmrServerlessProps", "#### SparkEmrServerless props"},
		{"EmrRoutingOptions", "#### Routing (`RouteLargeInputsTo`)"},
	} {
		t.Run(table.structName, func(t *testing.T) {
			fields, constants := propsFromSource(t, filepath.Join("..", "constructs", "sparklambda"), table.structName)
			checkPropsTable(t, table.structName, fields, constants, readmePropsRows(t, filepath.Join("..", "README.md"), table.heading))
		})
	}
}

// checkPropsTable compares one README props table (rows) with the fields of structName and the package's constants.
func checkPropsTable(t *testing.T, structName string, fields []string, constants map[string]int, rows [][]string) {
	t.Helper()
	rowOf := map[string][]string{}
	for _, row := range rows {
		for _, name := range backticked.FindAllStringSubmatch(row[0], -1) {
			if _, dup := rowOf[name[1]]; dup {
				t.Errorf("README props table names %s twice", name[1])
			}
			rowOf[name[1]] = row
		}
	}
	for _, field := range fields {
		row, ok := rowOf[field]
		if !ok {
			t.Errorf("%s.%s has no row in README.md's props table: add `| `%s` | default | valid | meaning |`", structName, field, field)
			continue
		}
		if value, ok := constants["Default"+field]; ok && !strings.Contains(row[1], strconv.Itoa(value)) {
			t.Errorf("README says the default of %s is %q, but Default%s is %d", field, row[1], field, value)
		}
		minValue, hasMin := constants["Min"+field]
		maxValue, hasMax := constants["Max"+field]
		if hasMin && hasMax {
			if want := strconv.Itoa(minValue) + "–" + strconv.Itoa(maxValue); !strings.Contains(row[2], want) {
				t.Errorf("README says %s is valid in %q, but the code accepts %s (Min%s..Max%s)", field, row[2], want, field, field)
			}
		} else if hasMin && !strings.Contains(row[2], strconv.Itoa(minValue)) {
			t.Errorf("README says %s is valid in %q, but the code's minimum is Min%s = %d", field, row[2], field, minValue)
		}
	}
	for name := range rowOf {
		if !slices.Contains(fields, name) {
			t.Errorf("README's props table has a row for %s, which is not a field of %s: remove or rename it", name, structName)
		}
	}
}

var backticked = regexp.MustCompile("`([A-Za-z0-9]+)`")

// propsFromSource returns the exported fields of the struct structName, in declaration order, and the package's
// integer constants, parsed from the construct package's non-test Go files.
func propsFromSource(t *testing.T, dir, structName string) ([]string, map[string]int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	constants := map[string]int{}
	fset := token.NewFileSet()
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			switch n := node.(type) {
			case *ast.TypeSpec:
				if structType, ok := n.Type.(*ast.StructType); ok && n.Name.Name == structName {
					for _, field := range structType.Fields.List {
						for _, ident := range field.Names {
							if ident.IsExported() {
								fields = append(fields, ident.Name)
							}
						}
					}
				}
			case *ast.ValueSpec:
				for i, ident := range n.Names {
					if i >= len(n.Values) {
						break
					}
					if literal, ok := n.Values[i].(*ast.BasicLit); ok && literal.Kind == token.INT {
						if value, err := strconv.Atoi(literal.Value); err == nil {
							constants[ident.Name] = value
						}
					}
				}
			}
			return true
		})
	}
	if len(fields) == 0 {
		t.Fatalf("no %s struct found in %s", structName, dir)
	}
	return fields, constants
}

// readmePropsRows returns the cells of each row of the table under README.md's heading (a whole line, e.g.
// "### Props"), up to the next heading.
func readmePropsRows(t *testing.T, path, heading string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(raw), "\n"+heading+"\n")
	if !found {
		t.Fatalf("%s has no %q section", path, heading)
	}
	var rows [][]string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 4 {
			t.Fatalf("README props row %q has %d cells, want 4 (Prop | Default | Valid | Meaning)", line, len(cells))
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("README's %q section has no rows", heading)
	}
	return rows
}
