package rollout_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// fill sets every exported field reachable from v to a non-zero value, so
// that a field the SDK adds later is covered without editing the test.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("v")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

// TestRegisterInputKeepsEveryField fills every field the SDK's
// TaskDefinition has and checks that each field RegisterTaskDefinition
// takes comes out equal, and that none is left empty.
func TestRegisterInputKeepsEveryField(t *testing.T) {
	t.Parallel()
	var td types.TaskDefinition
	fill(reflect.ValueOf(&td).Elem(), 0)
	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}
	in, err := rollout.RegisterInput(&td, tags)
	if err != nil {
		t.Fatalf("RegisterInput: %v", err)
	}
	got := reflect.ValueOf(in).Elem()
	src := reflect.ValueOf(td)
	for i := range got.NumField() {
		f := got.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if got.Field(i).IsZero() {
			t.Errorf("RegisterTaskDefinitionInput.%s: got zero, want it copied", f.Name)
			continue
		}
		if f.Name == "Tags" {
			if !reflect.DeepEqual(in.Tags, tags) {
				t.Errorf("Tags: got %+v, want %+v", in.Tags, tags)
			}
			continue
		}
		want := src.FieldByName(f.Name)
		if !want.IsValid() {
			t.Errorf("RegisterTaskDefinitionInput.%s has no source field in TaskDefinition", f.Name)
			continue
		}
		if !reflect.DeepEqual(got.Field(i).Interface(), want.Interface()) {
			t.Errorf("%s: got %+v, want %+v", f.Name, got.Field(i).Interface(), want.Interface())
		}
	}
}

type tdFake struct {
	rollout.ECSAPI
	described  *ecs.DescribeTaskDefinitionOutput
	describes  int
	registered *ecs.RegisterTaskDefinitionInput
	registers  int
}

func (f *tdFake) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.describes++
	if len(in.Include) != 1 || in.Include[0] != types.TaskDefinitionFieldTags {
		return nil, &types.InvalidParameterException{Message: aws.String("want Include TAGS")}
	}
	return f.described, nil
}

func (f *tdFake) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	f.registered = in
	f.registers++
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &types.TaskDefinition{TaskDefinitionArn: aws.String(tdNew)}}, nil
}

// fullTaskDefinition is a realistic task definition that sets the fields
// people lose with allowlist-based tools.
func fullTaskDefinition() *types.TaskDefinition {
	return &types.TaskDefinition{
		TaskDefinitionArn: aws.String(tdOld), Family: aws.String("app"), Revision: 1, Status: types.TaskDefinitionStatusActive,
		Cpu: aws.String("512"), Memory: aws.String("1024"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		RuntimePlatform:         &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/exec"), TaskRoleArn: aws.String("arn:aws:iam::123456789012:role/task"),
		EphemeralStorage: &types.EphemeralStorage{SizeInGiB: 40}, IpcMode: types.IpcModeTask, PidMode: types.PidModeTask,
		EnableFaultInjection: aws.Bool(true),
		Volumes:              []types.Volume{{Name: aws.String("data"), EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String("fs-1")}}},
		PlacementConstraints: []types.TaskDefinitionPlacementConstraint{{Type: types.TaskDefinitionPlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.os-type == linux")}},
		ProxyConfiguration:   &types.ProxyConfiguration{ContainerName: aws.String("envoy"), Type: types.ProxyConfigurationTypeAppmesh},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:env.prod"), Essential: aws.Bool(true),
				Secrets:     []types.Secret{{Name: aws.String("DB"), ValueFrom: aws.String("arn:aws:ssm:eu-west-1:123456789012:parameter/db")}},
				Environment: []types.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}}, MemoryReservation: aws.Int32(256)},
			{Name: aws.String("envoy"), Image: aws.String("public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29"), Essential: aws.Bool(false)},
		},
	}
}

func TestRegisterImagesChangesOnlyTheImage(t *testing.T) {
	t.Parallel()
	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}
	fake := &tdFake{described: &ecs.DescribeTaskDefinitionOutput{TaskDefinition: fullTaskDefinition(), Tags: tags}}
	r := rollout.New(fake)
	digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	repo := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
	pinned, err := imageref.MustParse(repo).WithDigest(digest)
	if err != nil {
		t.Fatal(err)
	}
	arn, err := r.RegisterImages(context.Background(), tdOld, []imageref.Reference{pinned})
	if err != nil {
		t.Fatalf("RegisterImages: %v", err)
	}
	if arn != tdNew {
		t.Errorf("ARN: got %s, want %s", arn, tdNew)
	}
	want, err := rollout.RegisterInput(fullTaskDefinition(), tags)
	if err != nil {
		t.Fatal(err)
	}
	want.ContainerDefinitions[0].Image = aws.String(repo + "@" + digest)
	if !reflect.DeepEqual(fake.registered, want) {
		t.Errorf("registered:\ngot  %+v\nwant %+v", fake.registered, want)
	}
	if got := aws.ToString(fake.described.TaskDefinition.ContainerDefinitions[0].Image); got != repo+":env.prod" {
		t.Errorf("the described task definition changed: image got %s, want %s:env.prod", got, repo)
	}
	// The cache answers the second call.
	if _, err := r.TaskDefinition(context.Background(), tdOld); err != nil {
		t.Fatal(err)
	}
	if fake.describes != 1 {
		t.Errorf("DescribeTaskDefinition calls: got %d, want 1", fake.describes)
	}
	other := imageref.MustParse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/other@" + digest)
	_, err = r.RegisterImages(context.Background(), tdOld, []imageref.Reference{other})
	var mismatch *rollout.ImageMismatchError
	if !errors.As(err, &mismatch) || mismatch.Images["app"] != repo+":env.prod" || !strings.Contains(err.Error(), "app="+repo+":env.prod") {
		t.Errorf("RegisterImages of a repository no container runs: got %v, want an *ImageMismatchError naming what each container runs", err)
	}
	if fake.registers != 1 {
		t.Errorf("RegisterTaskDefinition calls: got %d, want 1 (none for the mismatch)", fake.registers)
	}
}

// TestRetagImages: every container's image, or the named containers'
// only, gets the tag in place of its tag or digest; every other field is
// copied; a container the task definition lacks, or an image that is no
// reference, registers nothing.
func TestRetagImages(t *testing.T) {
	t.Parallel()
	const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	withDigest := func(td *types.TaskDefinition) { td.ContainerDefinitions[0].Image = aws.String(repo + "@" + digest) }
	badImage := func(td *types.TaskDefinition) { td.ContainerDefinitions[1].Image = aws.String("${ENVOY_IMAGE}") }
	for _, tc := range []struct {
		name       string
		edit       func(*types.TaskDefinition)
		containers []string
		want       map[string]string // container -> image registered; nil: nothing registered
		wantErr    string
	}{
		{name: "every container", want: map[string]string{"app": repo + ":v2", "envoy": "public.ecr.aws/appmesh/aws-appmesh-envoy:v2"}},
		{name: "a digest becomes the tag", edit: withDigest, want: map[string]string{"app": repo + ":v2", "envoy": "public.ecr.aws/appmesh/aws-appmesh-envoy:v2"}},
		{name: "named containers only", containers: []string{"app"}, want: map[string]string{"app": repo + ":v2", "envoy": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29"}},
		{name: "an unknown container", containers: []string{"app", "worker"}, wantErr: "has no container worker: name one of app, envoy"},
		{name: "an image that is no reference", edit: badImage, wantErr: "give container envoy of app:1 the tag v2"},
		{name: "an image that is no reference, not named", edit: badImage, containers: []string{"app"},
			want: map[string]string{"app": repo + ":v2", "envoy": "${ENVOY_IMAGE}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			td := fullTaskDefinition()
			if tc.edit != nil {
				tc.edit(td)
			}
			tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}
			fake := &tdFake{described: &ecs.DescribeTaskDefinitionOutput{TaskDefinition: td, Tags: tags}}
			arn, err := rollout.New(fake).RetagImages(context.Background(), tdOld, "v2", tc.containers)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || fake.registers != 0 {
					t.Fatalf("RetagImages: got %v after %d registrations, want an error containing %q and none", err, fake.registers, tc.wantErr)
				}
				var uc *rollout.UnknownContainerError
				if strings.Contains(tc.wantErr, "no container") && !errors.As(err, &uc) {
					t.Errorf("error %v is not an *UnknownContainerError", err)
				}
				return
			}
			if err != nil || arn != tdNew {
				t.Fatalf("RetagImages: got %s, %v; want %s", arn, err, tdNew)
			}
			want, err := rollout.RegisterInput(td, tags)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range want.ContainerDefinitions {
				want.ContainerDefinitions[i].Image = aws.String(tc.want[aws.ToString(c.Name)])
			}
			if !reflect.DeepEqual(fake.registered, want) {
				t.Errorf("registered:\ngot  %+v\nwant %+v", fake.registered, want)
			}
		})
	}
}
