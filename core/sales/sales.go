// Package sales holds the pipeline operations that span several records:
// converting a lead into a deal and moving a deal between stages. The
// GraphQL API and the CLI both call these.
package sales

import (
	"context"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/pipeline"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Conversion are the optional choices for the deal a lead becomes.
type Conversion struct {
	Name       string
	PipelineID pulid.ID
	StageID    pulid.ID
	Amount     *crm.Money
}

// ConvertLead turns a lead into a deal. Call it with a transactional client
// (client.Tx) to make the three writes atomic; the GraphQL API does.
func ConvertLead(ctx context.Context, client *ent.Client, id pulid.ID, c Conversion) (*ent.Deal, error) {
	l, err := client.Lead.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if l.Status == lead.StatusConverted || l.DealID != nil {
		return nil, errcode.Input("id", "lead is already converted")
	}
	pipelineID := c.PipelineID
	if pipelineID == "" && c.StageID == "" {
		p, err := client.Pipeline.Query().
			Order(ent.Desc(pipeline.FieldIsDefault), ent.Asc(pipeline.FieldCreatedAt)).
			First(ctx)
		if ent.IsNotFound(err) {
			return nil, errcode.Input("input.pipelineID", "the workspace has no pipeline")
		}
		if err != nil {
			return nil, err
		}
		pipelineID = p.ID
	}
	stageID := c.StageID
	if stageID == "" {
		st, err := client.Stage.Query().
			Where(stage.PipelineID(pipelineID), stage.KindEQ(stage.KindOpen)).
			Order(ent.Asc(stage.FieldPosition)).
			First(ctx)
		if ent.IsNotFound(err) {
			return nil, errcode.Input("input.pipelineID", "the pipeline has no open stage")
		}
		if err != nil {
			return nil, err
		}
		stageID = st.ID
	}
	name := c.Name
	if name == "" {
		name = l.Title
	}
	amount := l.EstimatedValue
	if c.Amount != nil {
		amount = *c.Amount
	}
	b := client.Deal.Create().
		SetName(name).
		SetAmount(amount).
		SetCurrency(l.Currency).
		SetStageID(stageID).
		SetNillableContactID(l.ContactID).
		SetNillableOrganizationID(l.OrganizationID).
		SetNillableOwnerID(l.OwnerID)
	if pipelineID != "" {
		b.SetPipelineID(pipelineID)
	}
	d, err := b.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating deal: %w", err)
	}
	err = client.Lead.UpdateOneID(l.ID).
		SetStatus(lead.StatusConverted).
		SetConvertedAt(time.Now()).
		SetDealID(d.ID).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("marking lead converted: %w", err)
	}
	return d, nil
}

// MoveDeal moves a deal to a stage of its pipeline. The data layer records
// the StageChange and sets the deal won, lost or open from the stage.
func MoveDeal(ctx context.Context, client *ent.Client, id, stageID pulid.ID) (*ent.Deal, error) {
	return client.Deal.UpdateOneID(id).SetStageID(stageID).Save(ctx)
}
