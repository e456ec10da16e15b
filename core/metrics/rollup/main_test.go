package rollup_test

import (
	"testing"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
