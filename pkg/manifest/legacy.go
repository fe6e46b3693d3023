package manifest

import "go.yaml.in/yaml/v3"

func (d *decoder) legacy(root *yaml.Node) []*Project {
	d.errorf(root, "", "legacy manifests are not supported yet")
	return nil
}
