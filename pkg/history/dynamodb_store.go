package history

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// PutRelease stores a new release, giving it an id and creation time when
// they are unset; ErrExists if the id is taken.
func (d *DynamoDB) PutRelease(ctx context.Context, r *Release) error {
	if err := prepareRelease(r, d.ids); err != nil {
		return fmt.Errorf("store release: %w", err)
	}
	it, err := item(r.Project, prefixRelease+r.ID, "release", r)
	if err != nil {
		return err
	}
	err = d.put(ctx, it, "attribute_not_exists(pk)", nil, nil)
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store release %s of %s: %w", r.ID, r.Project, ErrExists)
	case err != nil:
		return fmt.Errorf("store release %s of %s in table %s: %w", r.ID, r.Project, d.table, err)
	}
	return nil
}

// GetRelease finds a release by id or unique id prefix (case-insensitive
// for ULIDs).
func (d *DynamoDB) GetRelease(ctx context.Context, project, idOrPrefix string) (*Release, error) {
	if idOrPrefix == "" {
		return nil, fmt.Errorf("get release of %s: empty id: %w", project, ErrInvalid)
	}
	it, err := d.get(ctx, project, prefixRelease+idOrPrefix)
	if err != nil {
		return nil, err
	}
	if it != nil {
		return decodeItem[Release](it)
	}
	for _, prefix := range prefixVariants(idOrPrefix) {
		items, err := d.queryPrefix(ctx, project, prefixRelease+prefix, candidateLimit)
		if err != nil {
			return nil, fmt.Errorf("find release %s of %s: %w", idOrPrefix, project, err)
		}
		rs, err := decodeAll[Release](items)
		if err != nil {
			return nil, err
		}
		switch {
		case len(rs) == 1:
			return rs[0], nil
		case len(rs) > 1:
			ids := make([]string, 0, len(rs))
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			return nil, &AmbiguousError{Prefix: idOrPrefix, Candidates: ids}
		}
	}
	return nil, fmt.Errorf("release %s of %s: %w", idOrPrefix, project, ErrNotFound)
}

// LatestRelease returns the newest release of a project; ErrNotFound if it
// has none.
func (d *DynamoDB) LatestRelease(ctx context.Context, project string) (*Release, error) {
	rs, err := d.ListReleases(ctx, project, 1)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("latest release of %s: %w", project, ErrNotFound)
	}
	return rs[0], nil
}

// ListReleases returns releases newest first, at most limit (0: all).
func (d *DynamoDB) ListReleases(ctx context.Context, project string, limit int) ([]*Release, error) {
	items, err := d.queryPrefix(ctx, project, prefixRelease, limit)
	if err != nil {
		return nil, fmt.Errorf("list releases of %s: %w", project, err)
	}
	return decodeAll[Release](items)
}

// deploymentItem is a deployment's item at the given version. It carries
// the environment index keys, so one environment's deployments can be
// listed newest first.
func deploymentItem(dep *Deployment, version int64) (map[string]ddbtypes.AttributeValue, error) {
	c := *dep
	c.Version = version
	it, err := item(dep.Project, prefixDeploy+dep.ID, "deployment", &c)
	if err != nil {
		return nil, err
	}
	it[attrVersion] = n(version)
	it[attrEnv] = s(dep.Environment)
	it[attrEnvPK] = s(projectKey(dep.Project) + "#ENV#" + dep.Environment)
	it[attrEnvSK] = s(prefixDeploy + dep.ID)
	return it, nil
}

// CreateDeployment stores a new deployment (Version becomes 1), giving it
// an id and start time when they are unset; ErrExists if the id is taken.
func (d *DynamoDB) CreateDeployment(ctx context.Context, dep *Deployment) error {
	if err := prepareDeployment(dep, d.ids); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	it, err := deploymentItem(dep, 1)
	if err != nil {
		return err
	}
	err = d.put(ctx, it, "attribute_not_exists(pk)", nil, nil)
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("create deployment %s of %s: %w", dep.ID, dep.Project, ErrExists)
	case err != nil:
		return fmt.Errorf("create deployment %s of %s in table %s: %w", dep.ID, dep.Project, d.table, err)
	}
	dep.Version = 1
	return nil
}

// UpdateDeployment replaces a deployment if its Version is unchanged since
// it was read and bumps dep.Version; ErrConflict otherwise, ErrNotFound if
// it does not exist.
func (d *DynamoDB) UpdateDeployment(ctx context.Context, dep *Deployment) error {
	normaliseDeploymentTimes(dep)
	it, err := deploymentItem(dep, dep.Version+1)
	if err != nil {
		return err
	}
	err = d.put(ctx, it, "attribute_exists(pk) AND #v = :v AND #env = :env",
		map[string]ddbtypes.AttributeValue{":v": n(dep.Version), ":env": s(dep.Environment)},
		map[string]string{"#v": attrVersion, "#env": attrEnv})
	switch {
	case isConditionFailed(err):
		stored, gerr := d.get(ctx, dep.Project, prefixDeploy+dep.ID)
		if gerr != nil {
			return fmt.Errorf("update deployment %s of %s: %w (%w)", dep.ID, dep.Project, ErrConflict, gerr)
		}
		if stored == nil {
			return fmt.Errorf("update deployment %s of %s: %w", dep.ID, dep.Project, ErrNotFound)
		}
		return fmt.Errorf("update deployment %s of %s: version %d is stale, read it again: %w", dep.ID, dep.Project, dep.Version, ErrConflict)
	case err != nil:
		return fmt.Errorf("update deployment %s of %s in table %s: %w", dep.ID, dep.Project, d.table, err)
	}
	dep.Version++
	return nil
}

// GetDeployment finds a deployment by id.
func (d *DynamoDB) GetDeployment(ctx context.Context, project, id string) (*Deployment, error) {
	it, err := d.get(ctx, project, prefixDeploy+id)
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, fmt.Errorf("deployment %s of %s: %w", id, project, ErrNotFound)
	}
	return decodeItem[Deployment](it)
}

// ListDeployments returns deployments newest first, at most limit (0:
// all); environment "" means every environment. One environment's
// deployments are read from the environment index, which DynamoDB updates
// within a second or so of a write.
func (d *DynamoDB) ListDeployments(ctx context.Context, project, environment string, limit int) ([]*Deployment, error) {
	var (
		items []map[string]ddbtypes.AttributeValue
		err   error
	)
	if environment == "" {
		items, err = d.queryPrefix(ctx, project, prefixDeploy, limit)
	} else {
		items, err = d.query(ctx, &dynamodb.QueryInput{
			IndexName:              aws.String(indexByEnv),
			KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":pk": s(projectKey(project) + "#ENV#" + environment), ":prefix": s(prefixDeploy),
			},
		}, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list deployments of %s %s: %w", project, environment, err)
	}
	return decodeAll[Deployment](items)
}

// GetCurrent says what an environment runs now; ErrNotFound if nothing
// was ever deployed there.
func (d *DynamoDB) GetCurrent(ctx context.Context, project, environment string) (*Current, error) {
	it, err := d.get(ctx, project, prefixCurrent+environment)
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, fmt.Errorf("current release of %s/%s: %w", project, environment, ErrNotFound)
	}
	return decodeItem[Current](it)
}

// ListCurrent returns the current record of every environment, by
// environment name.
func (d *DynamoDB) ListCurrent(ctx context.Context, project string) ([]*Current, error) {
	items, err := d.queryPrefix(ctx, project, prefixCurrent, 0)
	if err != nil {
		return nil, fmt.Errorf("list current releases of %s: %w", project, err)
	}
	cs, err := decodeAll[Current](items)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(cs)-1; i < j; i, j = i+1, j-1 { // the query reads newest (highest) first
		cs[i], cs[j] = cs[j], cs[i]
	}
	return cs, nil
}

// SetCurrent writes an environment's current record if its Version is
// unchanged (0 for the first write) and bumps c.Version; ErrConflict
// otherwise. An unset UpdatedAt is set to now.
func (d *DynamoDB) SetCurrent(ctx context.Context, c *Current) error {
	if err := checkCurrent(c); err != nil {
		return fmt.Errorf("set current: %w", err)
	}
	next := *c
	next.Version++
	if next.UpdatedAt.IsZero() {
		next.UpdatedAt = d.now()
	}
	next.UpdatedAt = next.UpdatedAt.UTC()
	it, err := item(c.Project, prefixCurrent+c.Environment, "current", &next)
	if err != nil {
		return err
	}
	it[attrVersion] = n(next.Version)
	cond, values := "attribute_not_exists(pk)", map[string]ddbtypes.AttributeValue(nil)
	if c.Version != 0 {
		cond, values = "#v = :v", map[string]ddbtypes.AttributeValue{":v": n(c.Version)}
	}
	var names map[string]string
	if values != nil {
		names = map[string]string{"#v": attrVersion}
	}
	err = d.put(ctx, it, cond, values, names)
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("set current release of %s/%s: version %d is stale, read it again: %w", c.Project, c.Environment, c.Version, ErrConflict)
	case err != nil:
		return fmt.Errorf("set current release of %s/%s in table %s: %w", c.Project, c.Environment, d.table, err)
	}
	*c = next
	return nil
}

// lockAttempts bounds how often AcquireLock retries when the lock it saw
// held vanishes before it can say by whom.
const lockAttempts = 3

// AcquireLock takes the environment's lock for ttl, or takes over a lock
// whose lease has expired, or renews one already held by l.Owner. A live
// lock of another owner gives a *LockedError.
func (d *DynamoDB) AcquireLock(ctx context.Context, l Lock, ttl time.Duration) (*Lock, error) {
	if err := checkLock(&l, ttl); err != nil {
		return nil, fmt.Errorf("acquire lock: %w", err)
	}
	for range lockAttempts {
		now := d.now().UTC()
		l.AcquiredAt, l.ExpiresAt = now, now.Add(ttl)
		want, err := lockItem(&l)
		if err != nil {
			return nil, err
		}
		old, err := d.putReplacing(ctx, want, "attribute_not_exists(pk) OR #exp < :now OR #owner = :me",
			map[string]ddbtypes.AttributeValue{":now": s(now.Format(timeKey)), ":me": s(l.Owner)},
			map[string]string{"#exp": attrExpiresAt, "#owner": attrOwner})
		if err == nil {
			l.tookOver(old)
			return &l, nil
		}
		if !isConditionFailed(err) {
			return nil, fmt.Errorf("acquire lock of %s/%s in table %s: %w", l.Project, l.Environment, d.table, err)
		}
		it, err := d.get(ctx, l.Project, prefixLock+l.Environment)
		if err != nil {
			return nil, fmt.Errorf("acquire lock of %s/%s: read the holder: %w", l.Project, l.Environment, err)
		}
		if it == nil {
			continue // released meanwhile: try again
		}
		held, err := decodeItem[Lock](it)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("acquire lock: %w", lockedBy(*held))
	}
	return nil, fmt.Errorf("acquire lock of %s/%s: it changed hands %d times while we tried: %w", l.Project, l.Environment, lockAttempts, ErrConflict)
}

func (d *DynamoDB) putLock(ctx context.Context, l *Lock, cond string, values map[string]ddbtypes.AttributeValue, names map[string]string) error {
	it, err := lockItem(l)
	if err != nil {
		return err
	}
	return d.put(ctx, it, cond, values, names)
}

func lockItem(l *Lock) (map[string]ddbtypes.AttributeValue, error) {
	it, err := item(l.Project, prefixLock+l.Environment, "lock", l)
	if err != nil {
		return nil, err
	}
	it[attrOwner] = s(l.Owner)
	it[attrExpiresAt] = s(l.ExpiresAt.UTC().Format(timeKey))
	return it, nil
}

// tookOver sets l.Previous to old, the lock item AcquireLock replaced,
// when it was another run's. An item it cannot read only loses the
// report of whose it was: the lock is taken all the same.
func (l *Lock) tookOver(old map[string]ddbtypes.AttributeValue) {
	l.Previous = nil
	if len(old) == 0 {
		return
	}
	if prev, err := decodeItem[Lock](old); err == nil && prev.Owner != l.Owner {
		l.Previous = prev
	}
}

// RenewLock extends a held lock's lease to ttl from now; ErrConflict if
// the lock is no longer l.Owner's.
func (d *DynamoDB) RenewLock(ctx context.Context, l *Lock, ttl time.Duration) error {
	if err := checkLock(l, ttl); err != nil {
		return fmt.Errorf("renew lock: %w", err)
	}
	next := *l
	next.ExpiresAt = d.now().UTC().Add(ttl)
	err := d.putLock(ctx, &next, "#owner = :me",
		map[string]ddbtypes.AttributeValue{":me": s(l.Owner)}, map[string]string{"#owner": attrOwner})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("renew lock of %s/%s: no longer held by %s: %w", l.Project, l.Environment, l.Owner, ErrConflict)
	case err != nil:
		return fmt.Errorf("renew lock of %s/%s in table %s: %w", l.Project, l.Environment, d.table, err)
	}
	l.ExpiresAt = next.ExpiresAt
	return nil
}

// ReleaseLock frees a held lock; a lock that is no longer l.Owner's is left
// alone, and that is not an error.
func (d *DynamoDB) ReleaseLock(ctx context.Context, l *Lock) error {
	_, err := d.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &d.table,
		Key:                       key(l.Project, prefixLock+l.Environment),
		ConditionExpression:       aws.String("#owner = :me"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": s(l.Owner)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release lock of %s/%s in table %s: %w", l.Project, l.Environment, d.table, err)
	}
	return nil
}
