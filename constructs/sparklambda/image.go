package sparklambda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/docker"
)

// ImagePlatform is the only platform the image is built for. Lambda functions default to x86_64, and an image
// built for another platform (e.g. on an ARM laptop) fails at cold start with "exec format error".
const ImagePlatform = "linux/amd64"

// imageBuildScriptTemplate is the command the CDK CLI (cdk-assets) runs, with the cloud assembly directory as working
// directory, to build the image. It must print only the local image tag on stdout, so docker's own output goes to
// stderr. The flags are spelled out here, not left to the CLI's version, because Lambda rejects the OCI image
// index that BuildKit's default provenance/SBOM attestations produce ("The image manifest, config or layer media
// type ... is not supported"). CDK_DOCKER selects another docker-compatible client, as it does for the CDK CLI.
// Placeholders: {{FRAMEWORK}}, {{TAG}}, {{CONTEXT}}.
const imageBuildScriptTemplate = `set -eu
docker_cli="${CDK_DOCKER:-docker}"
"$docker_cli" buildx build --platform ` + ImagePlatform + ` --provenance=false --sbom=false --load --build-arg FRAMEWORK={{FRAMEWORK}} --tag {{TAG}} {{CONTEXT}} >&2
echo {{TAG}}`

// SparkImageProps configures a SparkImage.
type SparkImageProps struct {
	// Framework selects the table-format jars baked into the image (the FRAMEWORK build argument).
	// Required: one of FrameworkHudi, FrameworkDelta, FrameworkIceberg.
	Framework Framework
}

// SparkImage is the Spark runtime container image as an ECR image asset of the stack. It is built by the CDK CLI
// at deploy time from this module's docker/ context, always for linux/amd64 with provenance and SBOM attestations
// disabled; both facts are readable in the synthesized `<stack>.assets.json` (the asset's `executable` and
// `platform`). The asset hash covers the framework, the build command (flags included) and every file of the
// build context, so changing any of them changes the image tag and makes ECR take the new build.
//
// It needs a stack synthesizer that supports image assets built by an executable (DefaultStackSynthesizer, the
// default, and its subclasses).
type SparkImage struct {
	constructs.Construct

	// Framework is the table format baked into the image.
	Framework Framework
	// SourceHash is the asset hash (hex sha256); it is also the image tag in the bootstrap ECR repository.
	SourceHash string
	// Location is where the image will be in ECR after `cdk deploy` publishes it (tokens at synth time).
	Location *awscdk.DockerImageAssetLocation
	// Repository is the bootstrap ECR repository that will hold the image.
	Repository awsecr.IRepository
}

// Validate checks props without building anything and returns a *PropsError listing every problem (nil props, an
// unknown Framework), or nil.
func (p *SparkImageProps) Validate() error {
	check := propsChecker{construct: "SparkImage"}
	if p == nil {
		check.addf("props are nil: pass &SparkImageProps{Framework: ...} with one of %s", frameworkList())
	} else if !p.Framework.Valid() {
		check.addf("Framework is %q, but it must be one of %s: it selects the table-format jars in docker/versions.lock",
			p.Framework, frameworkList())
	}
	return check.err()
}

// NewSparkImage adds the image asset to the stack that contains scope and writes its build context into the
// cloud assembly directory. It panics with a *PropsError when props are invalid (see SparkImageProps.Validate),
// and with an error when the build context cannot be written.
func NewSparkImage(scope constructs.Construct, id string, props *SparkImageProps) *SparkImage {
	if err := props.Validate(); err != nil {
		panic(err)
	}

	this := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(this)

	files, err := contextFiles(docker.Context())
	if err != nil {
		panic(fmt.Errorf("SparkImage: reading the embedded build context: %w", err))
	}
	hash := imageSourceHash(props.Framework, imageBuildScriptTemplate, files)
	contextDir := "asset." + hash
	tag := "cdkasset-" + hash
	outdir := *awscdk.Stage_Of(this).Outdir()
	if err := writeContext(filepath.Join(outdir, contextDir), files); err != nil {
		panic(fmt.Errorf("SparkImage: writing the build context into the cloud assembly %s: %w", outdir, err))
	}

	script := strings.NewReplacer("{{FRAMEWORK}}", string(props.Framework), "{{TAG}}", tag, "{{CONTEXT}}", contextDir).
		Replace(imageBuildScriptTemplate)
	location := stack.Synthesizer().AddDockerImageAsset(&awscdk.DockerImageAssetSource{
		SourceHash:  jsii.String(hash),
		Executable:  jsii.Strings("sh", "-c", script),
		Platform:    jsii.String(ImagePlatform),
		DisplayName: jsii.String(fmt.Sprintf("Spark %s image (%s)", props.Framework, ImagePlatform)),
	})
	repository := awsecr.Repository_FromRepositoryName(this, jsii.String("Repository"), location.RepositoryName)

	return &SparkImage{
		Construct:  this,
		Framework:  props.Framework,
		SourceHash: hash,
		Location:   location,
		Repository: repository,
	}
}

// Code returns the Lambda code that points at this image by its tag. The image must come from NewSparkImage: a
// struct literal has no Location or Repository (SparkLambdaProps.Validate rejects such an Image).
func (i *SparkImage) Code() awslambda.DockerImageCode {
	return awslambda.DockerImageCode_FromEcr(i.Repository, &awslambda.EcrImageCodeProps{
		TagOrDigest: i.Location.ImageTag,
	})
}

// contextFile is one file of the build context.
type contextFile struct {
	path string // slash-separated, relative to the context root
	mode fs.FileMode
	data []byte
}

func contextFiles(fsys fs.FS) ([]contextFile, error) {
	var files []contextFile
	err := fs.WalkDir(fsys, ".", func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || strings.HasSuffix(path, ".go") {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		// embed.FS does not keep file modes; scripts that the image runs must be executable.
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(path, ".sh") || filepath.Base(path) == "spark-class" {
			mode = 0o755
		}
		files = append(files, contextFile{path: path, mode: mode, data: data})
		return nil
	})
	sort.Slice(files, func(a, b int) bool { return files[a].path < files[b].path })
	return files, err
}

// imageSourceHash is the asset hash: sha256 over the framework, the build command template (so a change of build
// flags is a new image, the equivalent of the CDK's extraHash) and each context file's path, mode and contents.
func imageSourceHash(framework Framework, buildScript string, files []contextFile) string {
	h := sha256.New()
	fmt.Fprintf(h, "spark-image/v1\x00%s\x00%s\x00", framework, buildScript)
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", f.path, f.mode, len(f.data))
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeContext(dir string, files []contextFile) error {
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(target, f.mode); err != nil {
			return err
		}
	}
	return nil
}
