package history

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// What Import did with one record.
const (
	Imported     = "imported"      // written to the store
	AlreadyThere = "already there" // the store holds it from an earlier import
	WouldImport  = "would import"  // a dry run: not in the store yet
)

// importWorkers is how many releases Import writes at once.
const importWorkers = 8

// ImportedRecord is what Import did with one release or deployment.
type ImportedRecord struct {
	Kind        string `json:"kind"` // "release" or "deployment"
	ID          string `json:"id"`   // its id in buoy's store
	Environment string `json:"environment,omitempty"`
	Origin      Origin `json:"origin"`
	// Outcome is Imported, AlreadyThere or WouldImport.
	Outcome string `json:"outcome"`
}

// ImportReport says what Import did, record by record (each release
// followed by its deployments, newest release first).
type ImportReport struct {
	Project string `json:"project"`
	Table   string `json:"table"`
	DryRun  bool   `json:"dryRun"`
	// Imported counts the records written (with DryRun: to be written);
	// AlreadyThere those the store held already.
	Imported     int              `json:"imported"`
	AlreadyThere int              `json:"alreadyThere"`
	Records      []ImportedRecord `json:"records"`
}

// Import copies every release and deployment of a weco-deploy table into
// store, with the ids and Origin that WecoTable.Map gives them. Each
// write is conditional (the store's PutRelease and CreateDeployment):
// a record already in the store, from an earlier import, is left as it
// is and counted as already there, so importing twice writes nothing the
// second time and never overwrites a record. A dry run writes nothing and
// reports what it would import. The weco-deploy table is only read.
func Import(ctx context.Context, from *WecoTable, store Store, dryRun bool) (*ImportReport, error) {
	rels, err := from.Releases(ctx, 0)
	if err != nil {
		return nil, err
	}
	records := make([][]ImportedRecord, len(rels))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(importWorkers)
	for i, r := range rels {
		g.Go(func() error {
			var err error
			records[i], err = importRelease(gctx, store, r, dryRun)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep := &ImportReport{Project: from.project, Table: from.table, DryRun: dryRun, Records: []ImportedRecord{}}
	for _, rs := range records {
		for _, r := range rs {
			if r.Outcome == AlreadyThere {
				rep.AlreadyThere++
			} else {
				rep.Imported++
			}
			rep.Records = append(rep.Records, r)
		}
	}
	return rep, nil
}

// importRelease writes a release, then its deployments.
func importRelease(ctx context.Context, store Store, r WecoRelease, dryRun bool) ([]ImportedRecord, error) {
	rec := ImportedRecord{Kind: "release", ID: r.Release.ID, Origin: *r.Release.Origin}
	var err error
	if dryRun {
		_, err = store.GetRelease(ctx, r.Release.Project, r.Release.ID)
		rec.Outcome, err = dryOutcome(err)
	} else {
		rec.Outcome, err = wetOutcome(store.PutRelease(ctx, r.Release))
	}
	if err != nil {
		return nil, fmt.Errorf("import release %s (weco-deploy %s): %w", r.Release.ID, r.Release.Origin.ID, err)
	}
	out := []ImportedRecord{rec}
	for _, d := range r.Deployments {
		rec := ImportedRecord{Kind: "deployment", ID: d.ID, Environment: d.Environment, Origin: *d.Origin}
		if dryRun {
			_, err = store.GetDeployment(ctx, d.Project, d.ID)
			rec.Outcome, err = dryOutcome(err)
		} else {
			rec.Outcome, err = wetOutcome(store.CreateDeployment(ctx, d))
		}
		if err != nil {
			return nil, fmt.Errorf("import deployment %s (weco-deploy %s): %w", d.ID, d.Origin.ID, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

func wetOutcome(err error) (string, error) {
	switch {
	case err == nil:
		return Imported, nil
	case errors.Is(err, ErrExists):
		return AlreadyThere, nil
	}
	return "", err
}

func dryOutcome(err error) (string, error) {
	switch {
	case err == nil:
		return AlreadyThere, nil
	case errors.Is(err, ErrNotFound):
		return WouldImport, nil
	}
	return "", err
}
