package engine

import (
	"errors"
	"strings"
	"testing"
)

const validLesson = `{"title":"ok","network":{"inputs":["a","b"],"outputs":["y"],"layers":[{"size":2,"activation":"tanh"},{"size":1,"activation":"linear"}]},
	"data":{"samples":[{"x":[1,2],"y":[3]}]},"training":{"learningRate":0.1}}`

func TestLessonValidationMessages(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // a problem's full text
	}{
		{"not json", `{"title":`, "the JSON ends too early"},
		{"not an object", `[1,2]`, "want an object, got a list"},
		{"learning rate as words", strings.Replace(validLesson, `"learningRate":0.1`, `"learningRate":"fast"`, 1), `training.learningRate: want a number, got "fast"`},
		{"learning rate too big", strings.Replace(validLesson, `"learningRate":0.1`, `"learningRate":1e400`, 1), `training.learningRate: want a number above 0 and at most 100, got 1e400`},
		{"learning rate negative", strings.Replace(validLesson, `"learningRate":0.1`, `"learningRate":-1`, 1), `training.learningRate: want a number above 0 and at most 100, got -1`},
		{"question fields", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"loss","kind":"loss","layer":"abc","ask":"?"}]`, 1), `questions[0].layer: only for a weight question (kind weight)`},
		{"long term in characters", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","glossary":[{"term":"`+strings.Repeat("é", 61)+`","meaning":"m"}]`, 1), `glossary[0].term: want at most 60 characters, got 61`},
		{"learning rate zero", strings.Replace(validLesson, `"learningRate":0.1`, `"learningRate":0`, 1), `training.learningRate: want a number above 0 and at most 100, got 0`},
		{"unknown field", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","colour":"red"`, 1), `colour: unknown field; want one of`},
		{"unknown training field", strings.Replace(validLesson, `"learningRate":0.1`, `"learningrate":0.1`, 1), `training.learningrate: unknown field`},
		{"duplicate key", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","title":"again"`, 1), `duplicate key "title"`},
		{"bad activation", strings.Replace(validLesson, `"activation":"tanh"`, `"activation":"swish"`, 1), `network.layers[0].activation: want one of sigmoid, tanh, relu, leaky_relu, linear, softmax; got "swish"`},
		{"softmax in hidden layer", strings.Replace(validLesson, `"activation":"tanh"`, `"activation":"softmax"`, 1), `network.layers[0].activation: softmax is for the output layer only`},
		{"fractional size", strings.Replace(validLesson, `"size":2`, `"size":2.5`, 1), `network.layers[0].size: want a whole number from 1 to 64, got 2.5`},
		{"too many neurons", strings.Replace(validLesson, `"size":2`, `"size":100000`, 1), `network.layers[0].size: want a whole number from 1 to 64, got 100000`},
		{"wrong input count", strings.Replace(validLesson, `"inputs":["a","b"]`, `"inputs":["a"]`, 1), `network.inputs: want 2 names (one per input the data has), got 1`},
		{"wrong output count", strings.Replace(validLesson, `"outputs":["y"]`, `"outputs":["y","z"]`, 1), `network.outputs: want 1 names (one per output neuron), got 2`},
		{"sample shape", strings.Replace(validLesson, `[{"x":[1,2],"y":[3]}]`, `[{"x":[1,2],"y":[3]},{"x":[1],"y":[3]}]`, 1), `data.samples[1]: want 2 inputs and 1 outputs like the first sample, got 1 and 1`},
		{"NaN string", strings.Replace(validLesson, `"x":[1,2]`, `"x":[1,"NaN"]`, 1), `data.samples[0].x[1]: want a number, got "NaN"`},
		{"huge value", strings.Replace(validLesson, `"x":[1,2]`, `"x":[1,1e300]`, 1), `data.samples[0].x[1]: want a number from -1e+06 to 1e+06, got 1e300`},
		{"weights shape", strings.Replace(validLesson, `"layers"`, `"weights":[[[1,2],[3]],[[1,1]]],"layers"`, 1), `network.weights[0][1]: want a list of 2, got 1`},
		{"no data", strings.Replace(validLesson, `"data":{"samples":[{"x":[1,2],"y":[3]}]},`, ``, 1), `data: missing; want samples or a generator`},
		{"both data kinds", strings.Replace(validLesson, `"samples":`, `"generator":"circle","samples":`, 1), `data: want either samples or a generator, not both`},
		{"unknown generator", `{"title":"g","network":{"layers":[{"size":1}]},"data":{"generator":"moons"}}`, `data.generator: want one of circle, gaussian, house_prices, multi_gaussian, plane, spiral, xor; got "moons"`},
		{"too many samples", `{"title":"g","network":{"layers":[{"size":1}]},"data":{"generator":"circle","n":100000}}`, `data.n: want a whole number from 4 to 5000, got 100000`},
		{"features on 3-D data", `{"title":"g","network":{"layers":[{"size":1}]},"data":{"generator":"house_prices","features":["x1"]}}`, `data.features: features need 2-D inputs (x1, x2); these samples have 3 inputs`},
		{"bad feature", `{"title":"g","network":{"layers":[{"size":1}]},"data":{"generator":"circle","features":["x3"]}}`, `data.features[0]: want one of x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2); got "x3"`},
		{"cross entropy on linear", strings.Replace(validLesson, `"learningRate":0.1`, `"learningRate":0.1,"loss":"cross_entropy"`, 1), `training.loss: cross_entropy needs a sigmoid or softmax output layer, got linear`},
		{"cross entropy target", strings.Replace(strings.Replace(validLesson, `"learningRate":0.1`, `"loss":"cross_entropy"`, 1), `"activation":"linear"`, `"activation":"sigmoid"`, 1), `data.samples[0].y: cross_entropy needs targets from 0 to 1, got 3`},
		{"too many weights", `{"title":"w","network":{"inputs":["a"],"layers":[{"size":64},{"size":64},{"size":64},{"size":64}]},"data":{"samples":[{"x":[1],"y":[1]}]}}`, `network.layers: these layers need 12608 weights and biases; the limit is 10000`},
		{"regularization kind", strings.Replace(validLesson, `"learningRate":0.1`, `"regularization":{"kind":"l3"}`, 1), `training.regularization.kind: want one of none, l1, l2; got "l3"`},
		{"note time", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","notes":[{"at":"lunch","say":"hi"}]`, 1), `notes[0].at: want one of start, sample, forward, loss, backward, update, epoch, diverged; got "lunch"`},
		{"question weight range", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"update","kind":"weight","layer":1,"to":3,"from":0,"ask":"?"}]`, 1), `questions[0].to: want a whole number from 0 to 0, got 3`},
		{"view decimals range", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","view":{"decimals":12}`, 1), `view.decimals: want a whole number from 2 to 8, got 12`},
		{"view decimals words", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","view":{"decimals":"six"}`, 1), `view.decimals: want a whole number, got "six"`},
		{"horizon on a weight question", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"update","kind":"weight","layer":1,"ask":"?","horizon":{"epochs":3}}]`, 1), `questions[0].horizon: only for a loss question (kind loss)`},
		{"horizon without epochs", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"epoch","kind":"loss","ask":"?","horizon":{"lossBelow":0.1}}]`, 1), `questions[0].horizon.epochs: missing; want how many epochs ahead the question looks, 1 to 1000`},
		{"horizon too far", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"epoch","kind":"loss","ask":"?","horizon":{"epochs":5000}}]`, 1), `questions[0].horizon.epochs: want a whole number from 1 to 1000, got 5000`},
		{"horizon threshold", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"epoch","kind":"loss","ask":"?","horizon":{"epochs":5,"lossBelow":-1}}]`, 1), `questions[0].horizon.lossBelow: want a number above 0 and at most 1e+06, got -1`},
		{"horizon as words", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"epoch","kind":"loss","ask":"?","horizon":"later"}]`, 1), `questions[0].horizon: want an object, got "later"`},
		{"horizon unknown field", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"epoch","kind":"loss","ask":"?","horizon":{"epochs":2,"steps":3}}]`, 1), `questions[0].horizon.steps: unknown field; want one of epochs, lossBelow`},
		{"answer of a threshold question", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"epoch","kind":"loss","ask":"?","horizon":{"epochs":5,"lossBelow":0.1},"answer":"smaller"}]`, 1), `questions[0].answer: want one of yes, no; got "smaller"`},
		{"answer of a weight question", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"update","kind":"weight","layer":1,"ask":"?","answer":"left"}]`, 1), `questions[0].answer: want one of up, down; got "left"`},
		{"answer of a winner question", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"forward","kind":"winner","ask":"?","answer":"1"}]`, 1), `questions[0].answer: want one of 0; got "1"`},
		{"note without its words", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","notes":[{"at":"start"}]`, 1), `notes[0].say: missing; want the sentence to show`},
		{"note without its time", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","notes":[{"say":"hi"}]`, 1), `notes[0].at: missing; want one of start, sample, forward, loss, backward, update, epoch, diverged`},
		{"term without meaning", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","glossary":[{"term":"weight"}]`, 1), `glossary[0].meaning: missing; want what the word means`},
		{"meaning without term", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","glossary":[{"meaning":"m"}]`, 1), `glossary[0].term: missing; want the word`},
		{"question without kind", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"loss","ask":"?"}]`, 1), `questions[0].kind: missing; want one of weight, loss, winner`},
		{"question without time", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"kind":"loss","ask":"?"}]`, 1), `questions[0].at: missing; want one of forward, loss, backward, update, epoch`},
		{"question without words", strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","questions":[{"at":"loss","kind":"loss"}]`, 1), `questions[0].ask: missing; want the question`},
		{"regularization without kind", strings.Replace(validLesson, `"learningRate":0.1`, `"learningRate":0.1,"regularization":{"rate":0.1}`, 1), `training.regularization.kind: missing; want one of none, l1, l2`},
		{"deep nesting", strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested more than 32 levels deep"},
		{"invalid utf-8", "{\"title\":\"\xff\"}", "not valid UTF-8"},
		{"trailing data", validLesson + `{}`, "unexpected data after the JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLesson([]byte(tt.doc))
			var le *LessonError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LessonError", err)
			}
			for _, p := range le.Problems {
				if strings.HasPrefix(p.Error(), tt.want) {
					return
				}
			}
			t.Errorf("no problem starts with %q; got:\n%v", tt.want, strings.ReplaceAll(err.Error(), "; ", "\n"))
		})
	}
}

func TestLessonDefaults(t *testing.T) {
	l := mustLesson(t, `{"title":"d","network":{"layers":[{"size":3},{"size":1,"activation":"sigmoid"}]},"data":{"generator":"circle"}}`)
	tr := l.Training
	if tr.Loss != HalfSquaredError || tr.Optimizer != SGD || tr.LearningRate != 0.03 || tr.BatchSize != 10 || !tr.Shuffle || tr.Momentum != 0.9 || tr.Regularization.Kind != "none" {
		t.Errorf("training defaults: %+v", tr)
	}
	if got := strings.Join(l.Network.Inputs, ","); got != "x1,x2" {
		t.Errorf("inputs default to %q", got)
	}
	if l.Network.Layers[0].Activation != Tanh {
		t.Errorf("default activation %v, want tanh", l.Network.Layers[0].Activation)
	}
	if l.TrainSize() != 100 || l.TestSize() != 100 {
		t.Errorf("circle default split %d/%d, want 100/100", l.TrainSize(), l.TestSize())
	}
	// Starting weights are within the Glorot limit and the same every time.
	limit := 0.0
	for _, w := range l.Network.Weights[0] {
		for _, v := range w {
			limit = max(limit, v*v)
		}
	}
	if limit > 6.0/5 {
		t.Errorf("a first-layer weight %v is outside ±√(6/5)", limit)
	}
	again := mustLesson(t, `{"title":"d","network":{"layers":[{"size":3},{"size":1,"activation":"sigmoid"}]},"data":{"generator":"circle"}}`)
	if lessonDoc(l) != lessonDoc(again) {
		t.Error("the same lesson gives different weights or data")
	}
}

func FuzzParseLesson(f *testing.F) {
	f.Add([]byte(validLesson))
	f.Add([]byte(`{"title":"g","seed":3,"network":{"layers":[{"size":4,"activation":"relu"},{"size":2,"activation":"softmax"}]},"data":{"generator":"spiral","n":40,"noise":0.2,"features":["x1","x2","sin(x1)"]},"training":{"loss":"cross_entropy","optimizer":"adam"}}`))
	f.Add([]byte(`{"title":"h","network":{"layers":[{"size":1,"activation":"linear"}]},"data":{"generator":"house_prices","n":10}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		l, err := ParseLesson(doc)
		if err != nil {
			if l != nil {
				t.Fatal("a lesson and an error")
			}
			return
		}
		tr, err := NewTrainer(l)
		if err != nil {
			t.Fatalf("a valid lesson makes no trainer: %v", err)
		}
		// A valid lesson steps, encodes and goes back without trouble.
		var buf []byte
		tr.Step(StepSample, func(e *Event) { buf = e.AppendJSON(buf[:0]) })
		tr.Back()
		if _, err := l.JSON(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestQuestionHorizonRoundTrip(t *testing.T) {
	doc := strings.Replace(validLesson, `"title":"ok"`, `"title":"ok","view":{"decimals":6},"questions":[{"at":"epoch","kind":"loss","ask":"?","answer":"yes","horizon":{"epochs":300,"lossBelow":0.1}},{"at":"loss","kind":"loss","ask":"?"}]`, 1)
	l := mustLesson(t, doc)
	if got, want := l.View.Decimals, 6; got != want {
		t.Errorf("view.decimals %d, want %d", got, want)
	}
	q := l.Questions[0]
	if q.Horizon == nil || q.Horizon.Epochs != 300 || q.Horizon.LossBelow != 0.1 || q.Answer != "yes" {
		t.Fatalf("question %+v horizon %+v", q, q.Horizon)
	}
	if l.Questions[1].Horizon != nil {
		t.Errorf("a question without a horizon got %+v", l.Questions[1].Horizon)
	}
	out, err := l.JSON()
	if err != nil {
		t.Fatal(err)
	}
	again := mustLesson(t, string(out))
	if h := again.Questions[0].Horizon; h == nil || *h != *q.Horizon || again.Questions[0].Answer != "yes" || again.View.Decimals != 6 {
		t.Errorf("after a round trip: %+v, view %+v", again.Questions[0], again.View)
	}
	if d := mustLesson(t, validLesson).View.Decimals; d != DefaultMathDigits {
		t.Errorf("default view.decimals %d, want %d", d, DefaultMathDigits)
	}
}
