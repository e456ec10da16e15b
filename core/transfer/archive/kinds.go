package archive

import (
	"context"
	"reflect"
	"strings"

	"entgo.io/ent"
	entschema "entgo.io/ent/dialect/sql/schema"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/assessmentanswer"
	"github.com/rapportcrm/rapport/core/ent/automation"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/lineitem"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/migrate"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/ent/pipeline"
	"github.com/rapportcrm/rapport/core/ent/product"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/stagechange"
	"github.com/rapportcrm/rapport/core/ent/tag"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/ent/workspaceplugin"
	"github.com/rapportcrm/rapport/core/pulid"
)

// kind is one entity type of the archive: its file, how to read it in
// pages and how to create its records.
type kind struct {
	// name is the table name, and the file's name without ".jsonl".
	name string
	// typ is the ent type name.
	typ string
	// prefix is the ID prefix of its records.
	prefix string
	// rtype is the ent struct type.
	rtype reflect.Type
	// fields are the struct's columns, in schema order.
	fields []fieldInfo
	byName map[string]*fieldInfo
	// tagged kinds carry their tag edge as "tags".
	tagged bool
	// maxLine bounds one line of its file.
	maxLine int
	// reference is for members: read for matching, never created.
	reference bool
	count     func(context.Context, *gen.Client) (int, error)
	page      func(context.Context, *gen.Client, pulid.ID, int) ([]any, error)
	// create starts a record: the builder and its mutation.
	create func(*gen.Client) (any, ent.Mutation)
	// bulk inserts builders made by create.
	bulk func(context.Context, *gen.Client, []any) error
}

// fieldInfo is one column of a kind.
type fieldInfo struct {
	name  string
	index int
	typ   reflect.Type
	// nullable columns without a default are left unset for zero values.
	nullable bool
	hasDef   bool
}

// file is the archive entry name of k.
func (k *kind) file() string { return k.name + ".jsonl" }

const (
	maxLine       = 8 << 20
	maxPluginLine = 64 << 20
)

var pulidType = reflect.TypeOf(pulid.ID(""))

func def[T any, B any](name, typ, prefix string,
	count func(context.Context, *gen.Client) (int, error),
	page func(context.Context, *gen.Client, pulid.ID, int) ([]*T, error),
	create func(*gen.Client) (B, ent.Mutation),
	bulk func(context.Context, *gen.Client, []B) error,
) *kind {
	k := &kind{name: name, typ: typ, prefix: prefix, rtype: reflect.TypeOf((*T)(nil)).Elem(), maxLine: maxLine, count: count}
	k.page = func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]any, error) {
		rows, err := page(ctx, c, after, n)
		out := make([]any, len(rows))
		for i, r := range rows {
			out[i] = r
		}
		return out, err
	}
	if create != nil {
		k.create = func(c *gen.Client) (any, ent.Mutation) { return create(c) }
		k.bulk = func(ctx context.Context, c *gen.Client, bs []any) error {
			typed := make([]B, len(bs))
			for i, b := range bs {
				typed[i] = b.(B)
			}
			return bulk(ctx, c, typed)
		}
	}
	var table *entschema.Table
	for _, t := range migrate.Tables {
		if t.Name == name {
			table = t
		}
	}
	if table == nil {
		panic("archive: no table " + name)
	}
	k.byName = map[string]*fieldInfo{}
	for i := 0; i < k.rtype.NumField(); i++ {
		sf := k.rtype.Field(i)
		tagName, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || tagName == "" || tagName == "-" || tagName == "edges" {
			continue
		}
		fi := fieldInfo{name: tagName, index: i, typ: sf.Type}
		col := -1
		for j, c := range table.Columns {
			if c.Name == tagName {
				col = j
			}
		}
		if col < 0 {
			panic("archive: no column " + name + "." + tagName)
		}
		fi.nullable = table.Columns[col].Nullable
		fi.hasDef = table.Columns[col].Default != nil
		k.fields = append(k.fields, fi)
	}
	for i := range k.fields {
		k.byName[k.fields[i].name] = &k.fields[i]
	}
	return k
}

func tagIDs(q *gen.TagQuery) { q.Select(tag.FieldID) }

// kinds are the archived entity types, in the order they are written and
// restored: every kind comes after the kinds it refers to.
var kinds = []*kind{
	def("members", gen.TypeMember, "mem",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Member.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Member, error) {
			return c.Member.Query().Where(member.IDGT(after)).Order(member.ByID()).Limit(n).All(ctx)
		}, (func(*gen.Client) (*gen.MemberCreate, ent.Mutation))(nil), nil),
	def("custom_fields", gen.TypeCustomField, "cfd",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.CustomField.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.CustomField, error) {
			return c.CustomField.Query().Where(customfield.IDGT(after)).Order(customfield.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.CustomFieldCreate, ent.Mutation) {
			b := c.CustomField.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.CustomFieldCreate) error {
			return c.CustomField.CreateBulk(b...).Exec(ctx)
		}),
	def("tags", gen.TypeTag, "tag",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Tag.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Tag, error) {
			return c.Tag.Query().Where(tag.IDGT(after)).Order(tag.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.TagCreate, ent.Mutation) { b := c.Tag.Create(); return b, b.Mutation() },
		func(ctx context.Context, c *gen.Client, b []*gen.TagCreate) error {
			return c.Tag.CreateBulk(b...).Exec(ctx)
		}),
	def("pipelines", gen.TypePipeline, "pip",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Pipeline.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Pipeline, error) {
			return c.Pipeline.Query().Where(pipeline.IDGT(after)).Order(pipeline.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.PipelineCreate, ent.Mutation) {
			b := c.Pipeline.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.PipelineCreate) error {
			return c.Pipeline.CreateBulk(b...).Exec(ctx)
		}),
	def("stages", gen.TypeStage, "stg",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Stage.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Stage, error) {
			return c.Stage.Query().Where(stage.IDGT(after)).Order(stage.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.StageCreate, ent.Mutation) { b := c.Stage.Create(); return b, b.Mutation() },
		func(ctx context.Context, c *gen.Client, b []*gen.StageCreate) error {
			return c.Stage.CreateBulk(b...).Exec(ctx)
		}),
	def("products", gen.TypeProduct, "prd",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Product.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Product, error) {
			return c.Product.Query().Where(product.IDGT(after)).Order(product.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.ProductCreate, ent.Mutation) {
			b := c.Product.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.ProductCreate) error {
			return c.Product.CreateBulk(b...).Exec(ctx)
		}),
	withTags(def("organizations", gen.TypeOrganization, "org",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Organization.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Organization, error) {
			return c.Organization.Query().Where(organization.IDGT(after)).Order(organization.ByID()).Limit(n).WithTags(tagIDs).All(ctx)
		},
		func(c *gen.Client) (*gen.OrganizationCreate, ent.Mutation) {
			b := c.Organization.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.OrganizationCreate) error {
			return c.Organization.CreateBulk(b...).Exec(ctx)
		})),
	withTags(def("contacts", gen.TypeContact, "con",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Contact.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Contact, error) {
			return c.Contact.Query().Where(contact.IDGT(after)).Order(contact.ByID()).Limit(n).WithTags(tagIDs).All(ctx)
		},
		func(c *gen.Client) (*gen.ContactCreate, ent.Mutation) {
			b := c.Contact.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.ContactCreate) error {
			return c.Contact.CreateBulk(b...).Exec(ctx)
		})),
	withTags(def("deals", gen.TypeDeal, "del",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Deal.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Deal, error) {
			return c.Deal.Query().Where(deal.IDGT(after)).Order(deal.ByID()).Limit(n).WithTags(tagIDs).All(ctx)
		},
		func(c *gen.Client) (*gen.DealCreate, ent.Mutation) { b := c.Deal.Create(); return b, b.Mutation() },
		func(ctx context.Context, c *gen.Client, b []*gen.DealCreate) error {
			return c.Deal.CreateBulk(b...).Exec(ctx)
		})),
	def("leads", gen.TypeLead, "led",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Lead.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Lead, error) {
			return c.Lead.Query().Where(lead.IDGT(after)).Order(lead.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.LeadCreate, ent.Mutation) { b := c.Lead.Create(); return b, b.Mutation() },
		func(ctx context.Context, c *gen.Client, b []*gen.LeadCreate) error {
			return c.Lead.CreateBulk(b...).Exec(ctx)
		}),
	def("stage_changes", gen.TypeStageChange, "stc",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.StageChange.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.StageChange, error) {
			return c.StageChange.Query().Where(stagechange.IDGT(after)).Order(stagechange.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.StageChangeCreate, ent.Mutation) {
			b := c.StageChange.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.StageChangeCreate) error {
			return c.StageChange.CreateBulk(b...).Exec(ctx)
		}),
	def("activities", gen.TypeActivity, "act",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Activity.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Activity, error) {
			return c.Activity.Query().Where(activity.IDGT(after)).Order(activity.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.ActivityCreate, ent.Mutation) {
			b := c.Activity.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.ActivityCreate) error {
			return c.Activity.CreateBulk(b...).Exec(ctx)
		}),
	def("orders", gen.TypeOrder, "ord",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Order.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Order, error) {
			return c.Order.Query().Where(order.IDGT(after)).Order(order.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.OrderCreate, ent.Mutation) { b := c.Order.Create(); return b, b.Mutation() },
		func(ctx context.Context, c *gen.Client, b []*gen.OrderCreate) error {
			return c.Order.CreateBulk(b...).Exec(ctx)
		}),
	def("line_items", gen.TypeLineItem, "lit",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.LineItem.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.LineItem, error) {
			return c.LineItem.Query().Where(lineitem.IDGT(after)).Order(lineitem.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.LineItemCreate, ent.Mutation) {
			b := c.LineItem.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.LineItemCreate) error {
			return c.LineItem.CreateBulk(b...).Exec(ctx)
		}),
	pluginKind(def("workspace_plugins", gen.TypeWorkspacePlugin, "wpl",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.WorkspacePlugin.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.WorkspacePlugin, error) {
			return c.WorkspacePlugin.Query().Where(workspaceplugin.IDGT(after)).Order(workspaceplugin.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.WorkspacePluginCreate, ent.Mutation) {
			b := c.WorkspacePlugin.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.WorkspacePluginCreate) error {
			return c.WorkspacePlugin.CreateBulk(b...).Exec(ctx)
		})),
	def("extension_bindings", gen.TypeExtensionBinding, "ext",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.ExtensionBinding.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.ExtensionBinding, error) {
			return c.ExtensionBinding.Query().Where(extensionbinding.IDGT(after)).Order(extensionbinding.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.ExtensionBindingCreate, ent.Mutation) {
			b := c.ExtensionBinding.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.ExtensionBindingCreate) error {
			return c.ExtensionBinding.CreateBulk(b...).Exec(ctx)
		}),
	def("segment_runs", gen.TypeSegmentRun, "sgr",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.SegmentRun.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.SegmentRun, error) {
			return c.SegmentRun.Query().Where(segmentrun.IDGT(after)).Order(segmentrun.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.SegmentRunCreate, ent.Mutation) {
			b := c.SegmentRun.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.SegmentRunCreate) error {
			return c.SegmentRun.CreateBulk(b...).Exec(ctx)
		}),
	def("segments", gen.TypeSegment, "seg",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Segment.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Segment, error) {
			return c.Segment.Query().Where(segment.IDGT(after)).Order(segment.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.SegmentCreate, ent.Mutation) {
			b := c.Segment.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.SegmentCreate) error {
			return c.Segment.CreateBulk(b...).Exec(ctx)
		}),
	def("segment_memberships", gen.TypeSegmentMembership, "sgm",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.SegmentMembership.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.SegmentMembership, error) {
			return c.SegmentMembership.Query().Where(segmentmembership.IDGT(after)).Order(segmentmembership.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.SegmentMembershipCreate, ent.Mutation) {
			b := c.SegmentMembership.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.SegmentMembershipCreate) error {
			return c.SegmentMembership.CreateBulk(b...).Exec(ctx)
		}),
	def("scores", gen.TypeScore, "scr",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Score.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Score, error) {
			return c.Score.Query().Where(score.IDGT(after)).Order(score.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.ScoreCreate, ent.Mutation) { b := c.Score.Create(); return b, b.Mutation() },
		func(ctx context.Context, c *gen.Client, b []*gen.ScoreCreate) error {
			return c.Score.CreateBulk(b...).Exec(ctx)
		}),
	def("assessment_answers", gen.TypeAssessmentAnswer, "asa",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.AssessmentAnswer.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.AssessmentAnswer, error) {
			return c.AssessmentAnswer.Query().Where(assessmentanswer.IDGT(after)).Order(assessmentanswer.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.AssessmentAnswerCreate, ent.Mutation) {
			b := c.AssessmentAnswer.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.AssessmentAnswerCreate) error {
			return c.AssessmentAnswer.CreateBulk(b...).Exec(ctx)
		}),
	def("automations", gen.TypeAutomation, "aut",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Automation.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Automation, error) {
			return c.Automation.Query().Where(automation.IDGT(after)).Order(automation.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.AutomationCreate, ent.Mutation) {
			b := c.Automation.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.AutomationCreate) error {
			return c.Automation.CreateBulk(b...).Exec(ctx)
		}),
	def("automation_runs", gen.TypeAutomationRun, "arn",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.AutomationRun.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.AutomationRun, error) {
			return c.AutomationRun.Query().Where(automationrun.IDGT(after)).Order(automationrun.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.AutomationRunCreate, ent.Mutation) {
			b := c.AutomationRun.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.AutomationRunCreate) error {
			return c.AutomationRun.CreateBulk(b...).Exec(ctx)
		}),
	def("deliveries", gen.TypeDelivery, "dlv",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.Delivery.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.Delivery, error) {
			return c.Delivery.Query().Where(delivery.IDGT(after)).Order(delivery.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.DeliveryCreate, ent.Mutation) {
			b := c.Delivery.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.DeliveryCreate) error {
			return c.Delivery.CreateBulk(b...).Exec(ctx)
		}),
	def("timeline_events", gen.TypeTimelineEvent, "tle",
		func(ctx context.Context, c *gen.Client) (int, error) { return c.TimelineEvent.Query().Count(ctx) },
		func(ctx context.Context, c *gen.Client, after pulid.ID, n int) ([]*gen.TimelineEvent, error) {
			return c.TimelineEvent.Query().Where(timelineevent.IDGT(after)).Order(timelineevent.ByID()).Limit(n).All(ctx)
		},
		func(c *gen.Client) (*gen.TimelineEventCreate, ent.Mutation) {
			b := c.TimelineEvent.Create()
			return b, b.Mutation()
		},
		func(ctx context.Context, c *gen.Client, b []*gen.TimelineEventCreate) error {
			return c.TimelineEvent.CreateBulk(b...).Exec(ctx)
		}),
}

func withTags(k *kind) *kind { k.tagged = true; return k }

func pluginKind(k *kind) *kind { k.maxLine = maxPluginLine; return k }

// byFile finds a kind by its archive entry name, and its position.
func byFile(name string) (*kind, int) {
	for i, k := range kinds {
		if k.file() == name {
			return k, i
		}
	}
	return nil, -1
}

func init() {
	kinds[0].reference = true
}
