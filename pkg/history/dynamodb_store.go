package history

import (
	"context"
	"errors"
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

// AcquireLock takes the environment's lock for ttl when it is free, or
// renews it when l.Owner holds it. A lock of another owner gives a
// *LockedError, however old it is: no clock is compared.
func (d *DynamoDB) AcquireLock(ctx context.Context, l Lock, ttl time.Duration) (*Lock, error) {
	if err := checkLock(&l, ttl); err != nil {
		return nil, fmt.Errorf("acquire lock: %w", err)
	}
	for range lockAttempts {
		want, it, err := d.nextLock(l, ttl)
		if err != nil {
			return nil, err
		}
		err = d.put(ctx, it, "attribute_not_exists(pk) OR #owner = :me",
			map[string]ddbtypes.AttributeValue{":me": s(l.Owner)}, map[string]string{"#owner": attrOwner})
		if err == nil {
			return want, nil
		}
		if !isConditionFailed(err) {
			return nil, fmt.Errorf("acquire lock of %s/%s in table %s: %w", l.Project, l.Environment, d.table, err)
		}
		held, err := d.GetLock(ctx, l.Project, l.Environment)
		if errors.Is(err, ErrNotFound) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return nil, fmt.Errorf("acquire lock of %s/%s: read the holder: %w", l.Project, l.Environment, err)
		}
		return nil, fmt.Errorf("acquire lock: %w", lockedBy(*held))
	}
	return nil, fmt.Errorf("acquire lock of %s/%s: it changed hands %d times while we tried: %w", l.Project, l.Environment, lockAttempts, ErrConflict)
}

// nextLock returns l with a new lease of ttl (times from the store's
// clock, for people; a new Token) and its item.
func (d *DynamoDB) nextLock(l Lock, ttl time.Duration) (*Lock, map[string]ddbtypes.AttributeValue, error) {
	now := d.now().UTC()
	l.AcquiredAt, l.ExpiresAt, l.TTL, l.Token = now, now.Add(ttl), ttl, newToken()
	l.Previous = nil
	it, err := lockItem(&l)
	return &l, it, err
}

// TakeOverLock replaces stale by l if the lock still carries stale's
// Owner and Token: its write token, which every write of the lock
// changes (a lock written before buoy kept Token has one too).
func (d *DynamoDB) TakeOverLock(ctx context.Context, l Lock, ttl time.Duration, stale Lock) (*Lock, error) {
	if err := checkTakeover(&l, ttl, &stale); err != nil {
		return nil, fmt.Errorf("take over lock: %w", err)
	}
	want, it, err := d.nextLock(l, ttl)
	if err != nil {
		return nil, err
	}
	err = d.put(ctx, it, "#owner = :owner AND #token = :token",
		map[string]ddbtypes.AttributeValue{":owner": s(stale.Owner), ":token": s(stale.Token)},
		map[string]string{"#owner": attrOwner, "#token": attrWrite})
	switch {
	case isConditionFailed(err):
		held, gerr := d.GetLock(ctx, l.Project, l.Environment)
		if gerr != nil {
			return nil, fmt.Errorf("take over the lock of %s/%s: it changed meanwhile: %w", l.Project, l.Environment, gerr)
		}
		return nil, fmt.Errorf("take over the lock of %s/%s: it changed meanwhile: %w", l.Project, l.Environment, lockedBy(*held))
	case err != nil:
		return nil, fmt.Errorf("take over the lock of %s/%s in table %s: %w", l.Project, l.Environment, d.table, err)
	}
	stale.Previous = nil
	want.Previous = &stale
	return want, nil
}

// lockItem is the item of l; its write token is l's Token.
func lockItem(l *Lock) (map[string]ddbtypes.AttributeValue, error) {
	it, err := item(l.Project, prefixLock+l.Environment, "lock", l)
	if err != nil {
		return nil, err
	}
	it[attrOwner] = s(l.Owner)
	it[attrExpiresAt] = s(l.ExpiresAt.UTC().Format(timeKey))
	it[attrWrite] = s(l.Token)
	return it, nil
}

// decodeLock reads a lock item. A lock written before buoy kept Token
// takes its write token as Token: that too changes at every write.
func decodeLock(it map[string]ddbtypes.AttributeValue) (*Lock, error) {
	l, err := decodeItem[Lock](it)
	if err != nil {
		return nil, err
	}
	if wt, ok := it[attrWrite].(*ddbtypes.AttributeValueMemberS); ok {
		l.Token = wt.Value
	}
	return l, nil
}

// RenewLock extends a held lock's lease to ttl with a new Token;
// ErrConflict if the lock is no longer l.Owner's.
func (d *DynamoDB) RenewLock(ctx context.Context, l *Lock, ttl time.Duration) error {
	if err := checkLock(l, ttl); err != nil {
		return fmt.Errorf("renew lock: %w", err)
	}
	next := *l
	next.ExpiresAt, next.TTL, next.Token = d.now().UTC().Add(ttl), ttl, newToken()
	it, err := lockItem(&next)
	if err != nil {
		return err
	}
	err = d.put(ctx, it, "#owner = :me",
		map[string]ddbtypes.AttributeValue{":me": s(l.Owner)}, map[string]string{"#owner": attrOwner})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("renew lock of %s/%s: no longer held by %s: %w", l.Project, l.Environment, l.Owner, ErrConflict)
	case err != nil:
		return fmt.Errorf("renew lock of %s/%s in table %s: %w", l.Project, l.Environment, d.table, err)
	}
	l.ExpiresAt, l.TTL, l.Token = next.ExpiresAt, next.TTL, next.Token
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

// GetLock returns the environment's lock; ErrNotFound when it is free.
func (d *DynamoDB) GetLock(ctx context.Context, project, environment string) (*Lock, error) {
	it, err := d.get(ctx, project, prefixLock+environment)
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, fmt.Errorf("lock of %s/%s: %w", project, environment, ErrNotFound)
	}
	return decodeLock(it)
}

// BreakLock frees u.Freed if it is still the environment's lock (same
// Owner) and stores u, in one transaction: the lock is never freed
// without its record, nor recorded as freed when it was not.
func (d *DynamoDB) BreakLock(ctx context.Context, u *Unlock) error {
	if err := prepareUnlock(u, d.ids); err != nil {
		return fmt.Errorf("free lock: %w", err)
	}
	rec, err := item(u.Project, prefixUnlock+u.ID, "unlock", u)
	if err != nil {
		return err
	}
	rec[attrEnv] = s(u.Environment)
	_, err = d.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: &d.table, Item: rec, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Delete: &ddbtypes.Delete{TableName: &d.table, Key: key(u.Project, prefixLock+u.Environment),
			ConditionExpression:       aws.String("#owner = :owner"),
			ExpressionAttributeNames:  map[string]string{"#owner": attrOwner},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":owner": s(u.Freed.Owner)}}},
	}})
	var cancelled *ddbtypes.TransactionCanceledException
	switch {
	case errors.As(err, &cancelled):
		return d.whyNotBroken(ctx, u)
	case err != nil:
		return fmt.Errorf("free the lock of %s/%s in table %s: %w", u.Project, u.Environment, d.table, err)
	}
	return nil
}

// whyNotBroken explains a BreakLock transaction DynamoDB cancelled: it
// did succeed when the unlock record exists (an earlier attempt of the
// same call was applied and its answer lost); otherwise the lock is free
// or held by another owner.
func (d *DynamoDB) whyNotBroken(ctx context.Context, u *Unlock) error {
	if it, err := d.get(ctx, u.Project, prefixUnlock+u.ID); err == nil && it != nil {
		return nil
	}
	held, err := d.GetLock(ctx, u.Project, u.Environment)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("free the lock of %s/%s: it is free already: %w", u.Project, u.Environment, ErrNotFound)
	case err != nil:
		return fmt.Errorf("free the lock of %s/%s: DynamoDB refused, and reading the lock failed: %w", u.Project, u.Environment, err)
	}
	return fmt.Errorf("free the lock of %s/%s: it changed hands, %w: %w", u.Project, u.Environment, ErrConflict, lockedBy(*held))
}

// ListUnlocks returns the locks freed by hand, newest first, at most
// limit (0: all); environment "" means every environment. Unlocks are
// rare: all of the project's are read, then filtered.
func (d *DynamoDB) ListUnlocks(ctx context.Context, project, environment string, limit int) ([]*Unlock, error) {
	items, err := d.queryPrefix(ctx, project, prefixUnlock, 0)
	if err != nil {
		return nil, fmt.Errorf("list the unlocks of %s: %w", project, err)
	}
	all, err := decodeAll[Unlock](items)
	if err != nil {
		return nil, err
	}
	out := make([]*Unlock, 0, len(all))
	for _, u := range all {
		if environment == "" || u.Environment == environment {
			out = append(out, u)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
