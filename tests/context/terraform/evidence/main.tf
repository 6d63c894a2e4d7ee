data "aws_ami" "windows" {
  most_recent = true
  owners      = ["amazon"]
  name_regex  = "^Windows_Server-2022-English"
  filter {
    name   = "name"
    values = ["Windows_Server-2022-English-Full-Base-*"]
  }
  filter {
    name   = "platform"
    values = ["windows"]
  }
}

data "aws_ami" "linux" {
  owners = ["amazon"]
  filter {
    name   = "name"
    values = ["al2023-ami-*-x86_64"]
  }
}

data "aws_ssm_parameter" "windows" {
  name = "/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base"
}

data "aws_ssm_parameter" "linux" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

resource "aws_security_group" "rdp" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "ami_filter" {
  ami                    = data.aws_ami.windows.id
  vpc_security_group_ids = [aws_security_group.rdp.id]
  get_password_data      = true
}

resource "aws_instance" "linux_filter" {
  ami                    = data.aws_ami.linux.id
  vpc_security_group_ids = [aws_security_group.rdp.id]
  get_password_data      = false
}

resource "aws_instance" "ssm_windows" {
  ami                    = data.aws_ssm_parameter.windows.value
  vpc_security_group_ids = [aws_security_group.rdp.id]
  user_data              = <<-EOT
    <powershell>
    Enable-PSRemoting -Force
    </powershell>
  EOT
}

resource "aws_instance" "ssm_linux" {
  ami                    = data.aws_ssm_parameter.linux.value
  vpc_security_group_ids = [aws_security_group.rdp.id]
}

resource "aws_launch_template" "resolve" {
  image_id               = "resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2016-English-Full-Base"
  vpc_security_group_ids = [aws_security_group.rdp.id]
  user_data              = base64encode("<script>winrm quickconfig -q</script>")
}

resource "aws_launch_configuration" "from_file" {
  image_id        = "ami-0123456789abcdef0"
  security_groups = [aws_security_group.rdp.id]
  user_data       = file("${path.module}/boot.ps1")
}
